// Checkout page: show the package, validate in the browser (every field at once, the site's own
// words), suggest a fix for a mistyped e-mail domain, post to the worker, open Epay's form.
(function () {
  "use strict";
  var T = JSON.parse(document.getElementById("strings").textContent);
  var worker = document.querySelector('meta[name="worker-url"]').content.replace(/\/$/, "");
  var form = document.getElementById("checkout");
  var summary = document.getElementById("summary");
  var payButton = document.getElementById("pay");
  var formError = document.getElementById("form-error");
  var code = new URLSearchParams(location.search).get("package") || "";
  var expected = null;
  // The buyer's contact, kept in this tab only (never in a URL) for "try again" after a decline.
  var CONTACT = "qe-checkout-contact";

  function price(amount) {
    var digits = String(amount).replace(/\B(?=(\d{3})+(?!\d))/g, T.price.group);
    return T.price.pattern.replace("{n}", digits);
  }

  function unavailable() {
    document.getElementById("unavailable").hidden = false;
    payButton.disabled = true;
  }

  function showPrice(amount) {
    expected = amount;
    document.getElementById("summary-price").textContent = price(amount);
    document.getElementById("pay-amount").textContent = price(amount);
  }

  // The summary's lines are in the page from the start (checkout.html): filling them moves nothing.
  function showSummary(p) {
    var title = document.getElementById("summary-title");
    var link = document.createElement("a");
    link.href = "/" + T.lang + "/esim/" + p.slug + "/";
    // The flag as on every other page: an SVG of a known size (no shift), decorative beside the name.
    var flag = document.createElement("img");
    flag.className = "flag";
    flag.src = p.flag_src;
    flag.width = 24;
    flag.height = 18;
    flag.alt = "";
    link.appendChild(flag);
    link.appendChild(document.createTextNode(" " + p.name));
    title.textContent = "";
    title.appendChild(link);
    title.appendChild(document.createTextNode(": " + T.summary.replace("{data}", p.data).replace("{days}", p.days)));
    showPrice(p.price_kzt);
  }

  function remembered() {
    try { return JSON.parse(sessionStorage.getItem(CONTACT) || "null"); } catch (e) { return null; }
  }
  function remember(contact) {
    try { sessionStorage.setItem(CONTACT, JSON.stringify(contact)); } catch (e) { /* private mode */ }
  }

  // "Did you mean buyer@gmail.com?": the checker (2.6 KB gzipped) loads when the field is first used.
  var email = form.elements.email;
  var suggestion = document.getElementById("email-suggestion");
  var checker = null;
  function loadChecker() {
    if (!checker) checker = loadScript(email.getAttribute("data-suggest-src")).catch(function () { checker = null; });
    return checker;
  }
  function suggest() {
    var typed = email.value.trim();
    suggestion.textContent = "";
    if (!typed) return;
    loadChecker().then(function () {
      var better = window.QE_emailSuggestion && window.QE_emailSuggestion(typed);
      if (!better || email.value.trim() !== typed) return;
      var parts = T.suggest.split("{email}");
      var accept = document.createElement("button");
      accept.type = "button";
      accept.className = "link";
      accept.textContent = better;
      accept.addEventListener("click", function () {
        email.value = better;
        suggestion.textContent = "";
        var slot = form.querySelector('[data-error-for="email"]');
        slot.textContent = "";
        email.removeAttribute("aria-invalid");
        email.focus();
      });
      suggestion.textContent = "";
      suggestion.appendChild(document.createTextNode(parts[0]));
      suggestion.appendChild(accept);
      suggestion.appendChild(document.createTextNode(parts[1] || ""));
    });
  }
  email.addEventListener("focus", loadChecker);
  email.addEventListener("change", suggest);

  // The same rules as the worker's in spirit; the worker has the last word (422 per field).
  function problems() {
    var found = {};
    var typed = email.value.trim();
    if (!typed) found.email = T.invalid.email_empty;
    else if (!/^[^\s@]+@[^\s@]+\.[^\s@]{2,}$/.test(typed)) found.email = T.invalid.email;
    var phone = form.elements.phone.value.trim();
    var digits = phone.replace(/[\s()\-]/g, "");
    if (!phone) found.phone = T.invalid.phone_empty;
    else if (!/^\+?[0-9]{7,15}$/.test(digits)) found.phone = T.invalid.phone;
    if (!form.elements.device_ok.checked) found.device_ok = T.invalid.device_ok;
    if (!form.elements.offer_accepted.checked) found.offer_accepted = T.invalid.offer_accepted;
    return found;
  }

  function clearErrors() {
    formError.textContent = "";
    form.querySelectorAll("[data-error-for]").forEach(function (el) { el.textContent = ""; });
    form.querySelectorAll("[aria-invalid]").forEach(function (el) { el.removeAttribute("aria-invalid"); });
  }

  function showErrors(errors) {
    var fields = Object.keys(errors || {});
    // One announcement for all of them; each message is read again with its field (aria-describedby).
    if (fields.length) formError.textContent = T.fix;
    fields.forEach(function (field) {
      var slot = form.querySelector('[data-error-for="' + field + '"]');
      var input = form.elements[field];
      if (slot) slot.textContent = errors[field];
      else formError.textContent = errors[field];
      if (input && input.setAttribute) input.setAttribute("aria-invalid", "true");
    });
    // The buyer starts from the top: the first field in error, not the last one marked.
    var first = form.querySelector("[aria-invalid=true]");
    if (first) first.focus();
  }

  var loadScript = window.QE.loadScript;  // site.js

  function submit(event) {
    event.preventDefault();
    clearErrors();
    var found = problems();
    if (Object.keys(found).length) { showErrors(found); return; }
    payButton.disabled = true;
    formError.textContent = T.pay_wait;
    var body = {
      package: code,
      email: form.elements.email.value.trim(),
      phone: form.elements.phone.value.trim(),
      lang: T.lang,
      device_ok: form.elements.device_ok.checked,
      offer_accepted: form.elements.offer_accepted.checked,
      expected_price: expected
    };
    fetch(worker + "/api/checkout", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        formError.textContent = "";
        if (response.status === 201) {
          remember({ email: body.email, phone: body.phone });
          return loadScript(data.payment_js).then(function () { window.halyk.pay(data.payment); });
        }
        payButton.disabled = false;
        if (response.status === 422) { showErrors(data.errors); return; }
        if (response.status === 409 && data.price_kzt) {
          showPrice(data.price_kzt);
          formError.textContent = T.price_changed.replace("{price}", price(data.price_kzt));
          return;
        }
        if (response.status >= 500) { unavailable(); return; }
        // 429 (issue 14): the worker says, in the page's language, when to try again.
        formError.textContent = (data.errors && Object.values(data.errors)[0]) || data.error || T.error;
      });
    }).catch(function () {
      formError.textContent = "";
      unavailable();
    });
  }

  function notOnSale() {
    summary.hidden = true;
    form.hidden = true;
    document.getElementById("no-package").hidden = false;
  }
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(code)) { notOnSale(); return; }
  // The same shard as checkout_shard() in plugins/catalogue/generator.py.
  function shard(text) {
    var value = 0;
    for (var i = 0; i < text.length; i++) value = (value * 31 + text.charCodeAt(i)) >>> 0;
    return value % Number(form.getAttribute("data-shards"));
  }
  fetch(form.getAttribute("data-packages") + shard(code) + ".json").then(function (r) {
    if (!r.ok) throw new Error(String(r.status));
    return r.json();
  }).then(function (shardPackages) {
    var p = shardPackages[code];
    if (!p) { notOnSale(); return; }
    showSummary(p);
    form.elements["package"].value = code;
    var contact = remembered();
    if (contact) {
      email.value = email.value || contact.email || "";
      form.elements.phone.value = form.elements.phone.value || contact.phone || "";
    }
    form.addEventListener("submit", submit);
    if (worker) payButton.disabled = false;
  }).catch(function () { unavailable(); });
})();
