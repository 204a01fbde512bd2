/* Epay sandbox payment-api.js: the surface of Halyk's script (spec §3.1), pointed at this sandbox.
   LZString (from node_modules/lz-string) is prepended by the server. */
(function () {
  "use strict";
  var BASE = "__SANDBOX_BASE__";
  var config = {
    pageUrL: BASE + "/payform/",
    origin: BASE,
    TokenAPIConfig: { url: BASE + "/oauth2/token" }
  };

  // key=encodeURIComponent(value) joined by "&"; a nested object is flattened the same way
  // first, so `auth` travels as one URI-encoded query string.
  function flatten(obj) {
    var parts = [];
    for (var key in obj) {
      if (!Object.prototype.hasOwnProperty.call(obj, key)) continue;
      var value = obj[key];
      if (value === undefined || value === null) continue;
      if (typeof value === "object") value = flatten(value);
      parts.push(key + "=" + encodeURIComponent(String(value)));
    }
    return parts.join("&");
  }

  function payformUrl(paymentObject, flag) {
    return config.pageUrL + "?params=" +
      LZString.compressToEncodedURIComponent(flatten(paymentObject)) + (flag || "");
  }

  function showPaymentWidget(paymentObject, callback) {
    var overlay = document.createElement("div");
    overlay.id = "halyk-payment-widget";
    overlay.style.cssText = "position:fixed;inset:0;z-index:2147483647;" +
      "background:rgba(0,0,0,.55);display:flex;align-items:center;justify-content:center";
    var frame = document.createElement("iframe");
    frame.src = payformUrl(paymentObject, "&isShortForm=true");
    frame.title = "Epay";
    frame.style.cssText = "width:420px;max-width:100%;height:640px;max-height:100%;" +
      "border:0;border-radius:8px;background:#fff";
    overlay.appendChild(frame);
    document.body.appendChild(overlay);

    function onMessage(event) {
      if (typeof event.origin !== "string" || event.origin.indexOf(config.origin) !== 0) return;
      var data;
      try { data = JSON.parse(event.data); } catch (e) { return; }
      window.removeEventListener("message", onMessage);
      if (overlay.parentNode) overlay.parentNode.removeChild(overlay);
      if (typeof callback === "function") callback({ success: data.success === true });
    }
    window.addEventListener("message", onMessage);
  }

  window.halyk = {
    Config: function () { return config; },
    pay: function (paymentObject) { location.href = payformUrl(paymentObject); },
    showPaymentWidget: showPaymentWidget,
    p2p: function (paymentObject) { location.href = payformUrl(paymentObject, "&isTransfer=true"); },
    aft: function (paymentObject) { location.href = payformUrl(paymentObject, "&isAFT=true"); },
    oct: function (paymentObject) { location.href = payformUrl(paymentObject, "&isOCT=true"); }
  };
})();
