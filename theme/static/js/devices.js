// Device page: filter the list of models as the buyer types.
(function () {
  "use strict";
  var input = document.getElementById("device-q");
  var none = document.getElementById("device-none");
  var brands = Array.prototype.slice.call(document.querySelectorAll("[data-brand]"));
  function fold(text) { return text.toLowerCase().replace(/\s+/g, " ").trim(); }
  input.addEventListener("input", function () {
    var words = fold(input.value).split(" ").filter(Boolean);
    var found = 0;
    brands.forEach(function (section) {
      var brand = fold(section.querySelector("h3").textContent);
      var visible = 0;
      section.querySelectorAll("[data-device]").forEach(function (row) {
        var text = brand + " " + fold(row.textContent);
        var match = words.every(function (word) { return text.indexOf(word) >= 0; });
        row.hidden = !match;
        if (match) visible += 1;
      });
      section.hidden = visible === 0;
      found += visible;
    });
    none.hidden = found > 0;
  });
})();
