// Source of theme/static/js/email-check.js (`invoke js` bundles it with esbuild; the site build
// copies the bundle, so building the site needs no Node). The checkout loads it on demand and
// calls window.QE_emailSuggestion("buyer@gmial.com") → "buyer@gmail.com" (or null).
import { run, POPULAR_DOMAINS, POPULAR_TLDS } from "@zootools/email-spell-checker";

// Our buyers' mail providers, which the library's list (mostly American) lacks.
var DOMAINS = POPULAR_DOMAINS.concat([
  "mail.ru", "inbox.ru", "list.ru", "bk.ru", "internet.ru", "yandex.ru", "yandex.kz", "ya.ru",
  "rambler.ru", "mail.kz", "inbox.kz", "outlook.com", "hotmail.com", "yahoo.com"
]);
var TLDS = POPULAR_TLDS.concat(["kz"]);

window.QE_emailSuggestion = function (email) {
  var found = run({ email: email, domains: DOMAINS, topLevelDomains: TLDS });
  return found && found.full !== email ? found.full : null;
};
