// "Add data" on the order page (issue 12): the top-ups that fit this eSIM, paid on Epay's
// payform like a package; after the payment the order page shows the eSIM's new totals.
(function () {
  "use strict";
  var box = document.getElementById("topups");
  if (!box) return;
  var T = JSON.parse(document.getElementById("topup-strings").textContent);
  var worker = document.querySelector('meta[name="worker-url"]').content.replace(/\/$/, "");
  var adding = false;

  function part(name) { return box.querySelector('[data-t="' + name + '"]'); }
  function price(amount) {
    var digits = String(amount).replace(/\B(?=(\d{3})+(?!\d))/g, T.price.group);
    return T.price.pattern.replace("{n}", digits);
  }
  function gigabytes(bytes) {
    var n = new Intl.NumberFormat(T.lang, { maximumFractionDigits: 2 }).format(bytes / 1073741824);
    return T.gb.replace("{n}", n);
  }
  var ago = window.QE.ago;  // order.js, loaded first: "updated 2 hours ago"
  var scrolled = false;
  function address() {
    return worker + "/api/orders/" + encodeURIComponent(decodeURIComponent(location.hash.slice(1))) + "/topups";
  }
  var loadScript = window.QE.loadScript;  // site.js

  function buy(offer, button) {
    button.disabled = true;
    part("note").textContent = T.wait;
    fetch(address(), {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ package: offer.package, lang: T.lang, expected_price: offer.price_kzt })
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (response.status === 201) {
          return loadScript(data.payment_js).then(function () { window.halyk.pay(data.payment); });
        }
        part("note").textContent = (data.errors && data.errors.package) || T.error;
        button.disabled = false;
        if (response.status === 409) load();  // the new price
      });
    }).catch(function () { part("note").textContent = T.error; button.disabled = false; });
  }

  function render(data) {
    var offers = part("offers");
    var history = part("history");
    offers.textContent = "";
    history.textContent = "";
    data.topups.forEach(function (offer) {
      var li = document.createElement("li");
      var button = document.createElement("button");
      button.type = "button";
      button.className = "btn";
      button.textContent = offer.title + " · " + price(offer.price_kzt);
      button.addEventListener("click", function () { buy(offer, button); });
      li.appendChild(button);
      offers.appendChild(li);
    });
    var busy = false;
    data.history.forEach(function (entry) {
      if (!T.status[entry.status]) return;  // not paid (yet): nothing happened to the eSIM
      busy = busy || entry.status === "paid" || entry.status === "applying";
      var li = document.createElement("li");
      li.textContent = entry.title + ": " + T.status[entry.status];
      history.appendChild(li);
    });
    var usage = data.usage;
    var known = !!(usage && usage.total_bytes && usage.updated_at);
    part("usage").hidden = !known;
    if (known) {
      part("usage").textContent = T.usage.replace("{used}", gigabytes(usage.used_bytes || 0))
        .replace("{total}", gigabytes(usage.total_bytes)).replace("{ago}", ago(usage.updated_at));
    }
    part("reason").textContent = data.reason || "";
    part("reason").hidden = !data.reason;
    part("history-title").hidden = !history.children.length;
    box.hidden = !data.topups.length && !history.children.length && !known;
    // "Add data" in My eSIMs leads here (order/?add-data#token): show the list, once.
    if (!scrolled && !box.hidden && /[?&]add-data\b/.test(location.search)) {
      scrolled = true;
      box.scrollIntoView();
    }
    if (busy) {
      adding = true;
      setTimeout(load, 2000);
    } else if (adding) {
      // Applied: order.js reads the order again on hashchange, and shows the new totals.
      adding = false;
      window.dispatchEvent(new HashChangeEvent("hashchange"));
    }
  }

  function load() {
    if (!worker || location.hash.length < 2) return;
    fetch(address() + "?lang=" + T.lang, { cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data) render(data); })
      .catch(function () { setTimeout(load, 10000); });
  }
  load();
})();
