// Home page: instant search over destinations by any of their kk/ru/en names, aliases or
// transliterations, and over the main cities (places.json: "Стамбул" → Türkiye).
(function () {
  "use strict";
  var input = document.getElementById("q");
  var list = document.getElementById("results");
  var none = document.getElementById("no-results");
  var index = null;
  var places = null;  // [[code, name, …], …] with the names folded, after the first 3 letters
  var lang = document.documentElement.lang;

  // The same folding as plugins/catalogue/search.py: lowercase, ё→е, no Latin accents, й kept.
  function fold(text) {
    return text.toLowerCase().replace(/ё/g, "е").normalize("NFD")
      .replace(/[\u0300-\u0305\u0307-\u036f]/g, "").normalize("NFC").trim();
  }

  // Whole name > start of a name > start of a word > anywhere; among equals, the name the
  // query covers most ("türk": Türkiye before Turks and Caicos), then popular destinations.
  function score(entry, query) {
    var best = 0;
    for (var i = 0; i < entry.keys.length; i++) {
      var key = entry.keys[i], rank = 0;
      if (key === query) rank = 4;
      else if (key.indexOf(query) === 0) rank = 3;
      else if (key.indexOf(" " + query) >= 0 || key.indexOf("-" + query) >= 0) rank = 2;
      else if (query.length > 2 && key.indexOf(query) > 0) rank = 1;
      if (rank) best = Math.max(best, rank + query.length / key.length);
    }
    return best && best + (entry.popular ? 0.5 : 0);
  }

  // One row: flag, name (wrapping on its own line width), price at the right edge.
  function item(entry, extra) {
    var li = document.createElement("li");
    var a = document.createElement("a");
    a.href = "/" + lang + "/esim/" + entry.code.toLowerCase() + "/";
    var flag = document.createElement("img");
    flag.className = "flag";
    flag.src = entry.flag;
    flag.alt = "";
    flag.width = 24;
    flag.height = 18;
    var name = document.createElement("span");
    name.className = "card-name";
    name.textContent = entry.name;
    if (extra) {
      var via = document.createElement("small");
      via.textContent = extra;
      name.appendChild(document.createElement("br"));
      name.appendChild(via);
    }
    var from = document.createElement("span");
    from.className = "card-from";
    from.textContent = entry.from;
    a.appendChild(flag);
    a.appendChild(name);
    a.appendChild(from);
    li.appendChild(a);
    return li;
  }

  function render() {
    var query = fold(input.value);
    list.textContent = "";
    none.hidden = true;
    if (!query || !index) return;
    var hits = index.map(function (entry) { return [score(entry, query), entry]; })
      .filter(function (pair) { return pair[0] > 0; })
      .sort(function (a, b) { return b[0] - a[0] || (a[1].region ? 1 : 0) - (b[1].region ? 1 : 0); })
      .map(function (pair) { return pair[1]; });
    var shown = {};
    hits.slice(0, 8).forEach(function (entry) { shown[entry.code] = true; list.appendChild(item(entry)); });
    // A country found: also offer the regions that cover it (one eSIM for the whole trip).
    var countries = hits.filter(function (e) { return !e.region; }).slice(0, 2);
    countries.forEach(function (country) {
      index.forEach(function (entry) {
        if (entry.region && !shown[entry.code] && entry.countries.indexOf(country.code) >= 0) {
          shown[entry.code] = true;
          list.appendChild(item(entry, country.name));
        }
      });
    });
    // A city: its country, with the city's name under it.
    var cities = 0;
    if (query.length >= 3 && !places) loadPlaces().then(render);
    (places || []).forEach(function (place) {
      if (cities >= 3) return;
      for (var i = 1; i < place.length; i++) {
        if (place[i][1].indexOf(query) === 0) {
          var country = byCode[place[0]];
          if (country && !shown[country.code]) {
            shown[country.code] = true;
            cities++;
            list.appendChild(item(country, place[i][0]));
          }
          return;
        }
      }
    });
    none.hidden = hits.length + cities > 0 || (query.length >= 3 && !places);
  }

  var byCode = {};
  var placesRequest = null;  // one download however fast the buyer types
  function loadPlaces() {
    placesRequest = placesRequest || fetch(input.getAttribute("data-places")).then(function (r) { return r.json(); })
      .then(function (data) {
        places = data.map(function (place) {
          return [place[0]].concat(place.slice(1).map(function (name) { return [name, fold(name)]; }));
        });
      }, function () { places = []; });  // offline: countries only, and "Nothing found" can show
    return placesRequest;
  }

  function load() {
    if (index) return Promise.resolve();
    return fetch(input.getAttribute("data-index")).then(function (r) { return r.json(); })
      .then(function (data) {
        index = data;
        index.forEach(function (entry) { byCode[entry.code] = entry; });
      });
  }

  input.form.addEventListener("submit", function (event) {
    event.preventDefault();
    var first = list.querySelector("a");
    if (first) location.href = first.href;
  });
  input.addEventListener("input", function () { load().then(render); });
  input.addEventListener("focus", function () { load(); }, { once: true });
  if (input.value) load().then(render);
})();
