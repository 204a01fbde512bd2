// Every page: a language switch that keeps the query and fragment.
(function () {
  "use strict";
  // Shared with the page scripts (deferred, so they run after this one): Epay's widget and the
  // e-mail checker are fetched only when needed.
  function loadScript(src) {
    return new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = src;
      script.onload = resolve;
      script.onerror = reject;
      document.head.appendChild(script);
    });
  }
  window.QE = { loadScript: loadScript };
  function remember(key, value) {
    try { localStorage.setItem(key, value); } catch (e) { /* private mode */ }
  }
  document.querySelectorAll(".langs a[data-keep]").forEach(function (link) {
    link.addEventListener("click", function () {
      // /ru/checkout/?package=X#… → /kk/checkout/?package=X#…; the choice is remembered for /.
      link.href = link.pathname + location.search + location.hash;
      remember("lang", link.getAttribute("hreflang"));
    });
  });
  // The support chat: its script and styles load on the first click only (page weight), and
  // open at once when an e-mailed link (#chat=KEY) brings the buyer back to their thread.
  var chat = document.getElementById("chat-open");
  function openChat(event) {
    if (event) event.preventDefault();
    if (window.QEChat) { window.QEChat.open(); return; }
    if (chat.getAttribute("data-loading")) return;
    chat.setAttribute("data-loading", "1");
    var css = document.createElement("link");
    css.rel = "stylesheet";
    css.href = chat.getAttribute("data-css");
    document.head.appendChild(css);
    var js = document.createElement("script");
    js.src = chat.getAttribute("data-js");
    document.head.appendChild(js);
  }
  if (chat) {
    chat.addEventListener("click", openChat);
    if (/^#chat=/.test(location.hash)) openChat();
  }
})();
