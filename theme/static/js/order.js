// Order page (/{lang}/order/#token): poll the worker and show the status, the eSIM and the receipt.
// QE.renderOrder is shared with the My eSIMs page (account.js).
(function () {
  "use strict";
  var T = JSON.parse(document.getElementById("order-strings").textContent);
  var worker = document.querySelector('meta[name="worker-url"]').content.replace(/\/$/, "");
  var PROCESSING = ["awaiting_payment", "paid", "provisioning"];

  function price(amount) {
    var digits = String(amount).replace(/\B(?=(\d{3})+(?!\d))/g, T.price.group);
    return T.price.pattern.replace("{n}", digits);
  }
  function two(n) { return (n < 10 ? "0" : "") + n; }
  // The page's own month names (CLDR, from the build): some phones' Intl has no Kazakh.
  function date(iso) {
    if (!iso) return "";
    var d = new Date(iso);
    if (isNaN(d)) return iso;
    return T.date.pattern.replace("{d}", d.getDate()).replace("{month}", T.date.months[d.getMonth()])
      .replace("{y}", d.getFullYear()) + ", " + two(d.getHours()) + ":" + two(d.getMinutes());
  }
  function gigabytes(bytes) {
    var n = new Intl.NumberFormat(T.lang, { maximumFractionDigits: 2 }).format(bytes / 1073741824);
    return T.gb.replace("{n}", n);
  }
  // "2 hours ago" in the page's language; the aggregator itself updates usage every 2-3 hours.
  function ago(iso) {
    var minutes = Math.round((new Date(iso) - Date.now()) / 60000);
    var words = new Intl.RelativeTimeFormat(T.lang, { numeric: "auto" });
    if (Math.abs(minutes) < 60) return words.format(minutes, "minute");
    if (Math.abs(minutes) < 2880) return words.format(Math.round(minutes / 60), "hour");
    return words.format(Math.round(minutes / 1440), "day");
  }
  // Links and images from the answer must be web addresses (never javascript: or data:).
  function web(url) { return /^https?:\/\//.test(url || "") ? url : ""; }
  function isApple() {
    return /iPhone|iPad|iPod/.test(navigator.userAgent) ||
      (/Macintosh/.test(navigator.userAgent) && navigator.maxTouchPoints > 1);
  }

  function resend(token, note, button) {
    button.disabled = true;
    fetch(worker + "/api/orders/" + encodeURIComponent(token) + "/resend-email", { method: "POST" })
      .then(function (r) {
        note.textContent = r.status === 202 ? T.resent : r.status === 429 ? T.too_often : T.error;
        button.disabled = false;
      })
      .catch(function () { note.textContent = T.error; button.disabled = false; });
  }

  // "7 days" in the page's language: the build gives the one/few/many forms of each sentence.
  var plurals = window.Intl && Intl.PluralRules ? new Intl.PluralRules(T.lang) : null;
  function plural(forms, n) {
    var form = forms[plurals ? plurals.select(n) : "many"] || forms.many;
    return form.replace("{n}", n);
  }
  // The order's title in the page's language (an order keeps the one it was bought in).
  function title(pkg) { return pkg ? (pkg.titles && pkg.titles[T.lang]) || pkg.title : ""; }

  function renderOrder(order, token) {
    var view = document.getElementById("order-template").content.firstElementChild.cloneNode(true);
    function field(name) { return view.querySelector('[data-f="' + name + '"]'); }
    function set(name, text) { field(name).textContent = text == null ? "" : text; }
    // Only a delivered order's eSIM is the buyer's: a refunded order's profile is cancelled.
    var esim = order.status === "delivered" ? order.esim : null;
    var receipts = order.receipts || [];
    var declined = order.status === "payment_failed";
    var status = order.abandoned ? "abandoned" : order.status;
    var shown = {
      processing: PROCESSING.indexOf(status) >= 0,
      decline: declined,
      retry: declined || !!order.abandoned,
      need_support: order.status === "provisioning_failed",
      refunded: order.status === "refunded",
      refund: !!order.refund,
      receipts: receipts.length > 0,
      esim: !!esim,
      // My eSIMs: the account API says which eSIMs take top-ups (issue 12).
      topup: !!(esim && order.can_top_up),
      ios: !!(esim && web(esim.ios_install_url) && isApple()),
      resend: !!(esim && order.can_resend_email),
      payment: !!order.payment,
      no_payment: !order.payment
    };
    view.querySelectorAll("[data-show]").forEach(function (el) { el.hidden = !shown[el.getAttribute("data-show")]; });
    set("status", order.abandoned ? T.abandoned : T.status[order.status] || order.status);
    set("title", title(order.package));
    if (declined) {
      var reason = T.declines[String(order.decline_code)] || T.decline_other;
      set("decline_reason", reason[0]);
      set("decline_advice", reason[1]);
    }
    set("number", T.number.replace("{number}", order.order_id));
    if (order.refund) {
      set("refund", T.refund.replace("{amount}", price(order.refund.amount)).replace("{date}", date(order.refund.refunded_at)));
    }
    receipts.forEach(function (receipt) {
      var li = document.createElement("li");
      var text = (T.receipt[receipt.operation] || T.receipt.sale)
        .replace("{number}", receipt.fiscal_number).replace("{date}", date(receipt.registered_at));
      var link = document.createElement(web(receipt.url) ? "a" : "span");
      if (web(receipt.url)) { link.href = receipt.url; link.rel = "noopener"; link.target = "_blank"; }
      link.textContent = text;
      li.appendChild(link);
      field("receipts").appendChild(li);
    });
    view.querySelector('[data-f="status"]').className = "status status-" + status;
    // "Try again" reopens the checkout with this package; the checkout fills in the e-mail
    // and phone it kept in this tab (sessionStorage), so none of it travels in a URL.
    if (order.package && order.package.code) {
      field("retry").href = "/" + T.lang + "/checkout/?package=" + encodeURIComponent(order.package.code);
    }
    if (esim) {
      field("qr").src = web(esim.qr_svg_url);
      field("ios").href = web(esim.ios_install_url) || "#";
      set("smdp", esim.smdp_address);
      set("code", esim.activation_code);
      set("expires", date(esim.expires_at));
      var days = esim.plan_days || (order.package && order.package.days);
      if (days) set("validity", plural(T.runs[esim.validity_starts] || T.runs.unknown, days));
      var used = esim.total_bytes && order.usage_updated_at
        ? T.used_of_updated.replace("{ago}", ago(order.usage_updated_at)) : T.used_of;
      set("usage", esim.total_bytes
        ? used.replace("{used}", gigabytes(esim.used_bytes || 0)).replace("{total}", gigabytes(esim.total_bytes))
        : gigabytes(esim.used_bytes || 0) + " · " + T.unlimited);
      // The order page's own top-up section; ?add-data takes the buyer straight to it.
      field("topup").href = "/" + T.lang + "/order/?add-data#" + encodeURIComponent(token);
      view.querySelectorAll("[data-copy]").forEach(function (button) {
        button.addEventListener("click", function () {
          var code = field(button.getAttribute("data-copy"));
          function done() {
            var label = button.textContent;
            button.textContent = T.copied;
            setTimeout(function () { button.textContent = label; }, 2000);
          }
          // Without the clipboard API (an old browser, a page not served over https), select
          // the code so that the buyer can copy it by hand.
          function select() { window.getSelection().selectAllChildren(code); }
          if (navigator.clipboard) navigator.clipboard.writeText(code.textContent).then(done, select);
          else select();
        });
      });
      field("resend").addEventListener("click", function () { resend(token, field("resend-note"), field("resend")); });
    }
    set("order_id", order.order_id);
    set("package", title(order.package));
    set("date", date(order.created_at));
    set("amount", price(order.amount));
    set("email", order.email_masked);
    if (order.payment) {
      set("card", order.payment.card_mask);
      set("reference", order.payment.reference);
    }
    return view;
  }

  Object.assign(window.QE, { renderOrder: renderOrder, worker: worker, ago: ago });

  var box = document.getElementById("order");
  if (!box) return;
  var token = decodeURIComponent(location.hash.slice(1));
  var loading = document.getElementById("order-loading");
  var missing = document.getElementById("order-missing");
  var offline = document.getElementById("order-offline");
  var started = Date.now();

  function poll() {
    if (!token || !worker) { loading.hidden = true; (token ? offline : missing).hidden = false; return; }
    fetch(worker + "/api/orders/" + encodeURIComponent(token), { cache: "no-store" }).then(function (r) {
      if (r.status === 404) { loading.hidden = true; missing.hidden = false; return null; }
      if (!r.ok) throw new Error(String(r.status));
      return r.json();
    }).then(function (order) {
      if (!order) return;
      loading.hidden = true;
      offline.hidden = true;
      box.textContent = "";
      box.appendChild(renderOrder(order, token));
      if (PROCESSING.indexOf(order.status) >= 0) {
        // Every 3 s for the first minutes, then calmer: a bank confirmation can take a while.
        setTimeout(poll, Date.now() - started < 300000 ? 3000 : 15000);
      }
    }).catch(function () {
      loading.hidden = true;
      offline.hidden = false;
      setTimeout(poll, 10000);
    });
  }
  poll();
  window.addEventListener("hashchange", function () { token = decodeURIComponent(location.hash.slice(1)); poll(); });
})();
