// Every page: a language switch that keeps the query and fragment.
(function () {
  "use strict";
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
})();
