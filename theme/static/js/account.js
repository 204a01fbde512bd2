// My eSIMs (/{lang}/account/): sign-in link by e-mail, #login=… → session, then the buyer's orders.
(function () {
  "use strict";
  var T = JSON.parse(document.getElementById("account-strings").textContent);
  var worker = window.QE.worker;
  var lang = document.documentElement.lang;
  var form = document.getElementById("sign-in");
  var KEY = "qe-session";

  function show(id, visible) { document.getElementById(id).hidden = !visible; }
  function session() { try { return sessionStorage.getItem(KEY); } catch (e) { return null; } }
  function remember(value) {
    try { if (value) sessionStorage.setItem(KEY, value); else sessionStorage.removeItem(KEY); } catch (e) { /* private mode */ }
  }
  function api(path, options) {
    options = options || {};
    options.headers = options.headers || {};
    if (session()) options.headers.Authorization = "Bearer " + session();
    if (options.json) {
      options.method = options.method || "POST";
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(options.json);
    }
    return fetch(worker + path, options);
  }
  function unavailable() { show("account-busy", false); show("account-unavailable", true); }
  function signedOut() { remember(null); show("orders", false); show("account-busy", false); form.hidden = false; }

  function loadOrders() {
    show("account-busy", true);
    api("/api/account/orders", { cache: "no-store" }).then(function (r) {
      if (r.status === 401) { signedOut(); return null; }
      if (!r.ok) throw new Error(String(r.status));
      return r.json();
    }).then(function (data) {
      if (!data) return;
      show("account-busy", false);
      form.hidden = true;
      show("orders", true);
      document.getElementById("account-email-masked").textContent = data.email_masked;
      var list = document.getElementById("order-list");
      list.textContent = "";
      data.orders.forEach(function (order) { list.appendChild(window.QE.renderOrder(order, order.token)); });
      // A chat opened here is about the newest order (chat.js reads it).
      if (data.orders.length) window.QEChatOrder = data.orders[0].token;
      show("no-orders", data.orders.length === 0);
    }).catch(unavailable);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var slot = form.querySelector("[data-error-for=email]");
    slot.textContent = "";
    if (!form.checkValidity()) { form.reportValidity(); return; }
    api("/api/account/sign-in-link", { json: { email: form.elements.email.value.trim(), lang: lang } }).then(function (r) {
      if (r.status === 202) { form.hidden = true; show("link-sent", true); return; }
      return r.json().then(function (data) {
        slot.textContent = (data.errors && data.errors.email) || data.error || T.error;
      });
    }).catch(unavailable);
  });

  document.getElementById("sign-out").addEventListener("click", function () {
    api("/api/account/sign-out", { method: "POST" }).finally(signedOut);
  });

  // A sign-in link: on arrival, or opened in a tab that is already on this page (then only the
  // address's #fragment changes and the page does not reload).
  function redeem() {
    var login = /^#login=(.+)$/.exec(location.hash);
    if (!login) return false;
    // The link works once: drop it from the address bar and history before using it.
    history.replaceState(null, "", location.pathname + location.search);
    ["link-bad", "link-sent", "account-unavailable"].forEach(function (id) { show(id, false); });
    form.hidden = true;
    show("account-busy", true);
    api("/api/account/session", { json: { login: decodeURIComponent(login[1]) } }).then(function (r) {
      if (r.status === 401) { show("account-busy", false); show("link-bad", true); form.hidden = false; return null; }
      if (!r.ok) throw new Error(String(r.status));
      return r.json();
    }).then(function (data) { if (data) { remember(data.session); loadOrders(); } }).catch(unavailable);
    return true;
  }

  if (!worker) { unavailable(); return; }
  window.addEventListener("hashchange", redeem);
  if (redeem()) return;
  if (session()) {
    loadOrders();
  } else {
    form.hidden = false;
  }
})();
