// The support chat panel (issue 11), loaded by site.js when the visitor opens it.
// The thread key lives in localStorage; messages are read every 3 s while the panel is open.
// Every text from the worker is set with textContent: nothing a buyer or support writes is markup.
(function () {
  "use strict";
  var opener = document.getElementById("chat-open");
  var worker = document.querySelector('meta[name="worker-url"]').content.replace(/\/$/, "");
  var KEY = "chat-key";
  var POLL_MS = 3000;
  var T = null;
  var panel = null;
  var timer = null;
  var shown = 0;

  function stored() { try { return localStorage.getItem(KEY); } catch (e) { return null; } }
  function remember(key) { try { localStorage.setItem(KEY, key); } catch (e) { /* private mode */ } }
  function forget() { try { localStorage.removeItem(KEY); } catch (e) { /* private mode */ } }
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text != null) node.textContent = text;
    return node;
  }
  function part(name) { return panel.querySelector('[data-c="' + name + '"]'); }
  function orderToken() {
    if (/\/order\/$/.test(location.pathname) && location.hash.length > 1) return decodeURIComponent(location.hash.slice(1));
    return window.QEChatOrder || "";
  }

  function build() {
    panel = el("section", "chat");
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-label", T.title);
    var head = el("header", "chat-head");
    head.appendChild(el("h2", null, T.title));
    var close = el("button", "chat-x", "×");
    close.type = "button";
    close.setAttribute("aria-label", T.close);
    close.addEventListener("click", hide);
    head.appendChild(close);
    panel.appendChild(head);
    var info = el("p", "chat-info", T.hours + " " + T.whatsapp + " ");
    var wa = el("a", null, T.whatsapp_phone);
    wa.href = T.whatsapp_url;
    wa.rel = "noopener";
    info.appendChild(wa);
    panel.appendChild(info);
    var log = el("ol", "chat-log");
    log.setAttribute("data-c", "log");
    log.setAttribute("aria-live", "polite");
    panel.appendChild(log);
    var note = el("p", "chat-note");
    note.setAttribute("data-c", "note");
    note.setAttribute("role", "status");
    panel.appendChild(note);
    var form = el("form", "chat-form");
    var text = el("textarea");
    text.setAttribute("data-c", "text");
    text.maxLength = 2000;
    text.required = true;
    text.rows = 3;
    text.setAttribute("aria-label", T.question);
    text.placeholder = T.question;
    form.appendChild(text);
    var email = el("input");
    email.type = "email";
    email.autocomplete = "email";
    email.setAttribute("data-c", "email");
    email.setAttribute("aria-label", T.email);
    email.placeholder = T.email;
    form.appendChild(email);
    form.appendChild(el("button", "btn", T.send));
    form.addEventListener("submit", send);
    // A screenshot goes to an existing thread: the field shows once the first message is sent.
    var shot = el("label", "chat-shot", T.screenshot);
    shot.setAttribute("data-c", "shot");
    var file = el("input");
    file.type = "file";
    file.accept = "image/png,image/jpeg";
    file.addEventListener("change", function () { upload(file); });
    shot.appendChild(file);
    form.appendChild(shot);
    panel.appendChild(form);
    document.body.appendChild(panel);
  }

  function render(thread) {
    var log = part("log");
    part("email").hidden = true;
    part("shot").hidden = false;
    if (thread.messages.length < shown) { log.textContent = ""; shown = 0; }
    thread.messages.slice(shown).forEach(function (m) {
      var item = el("li", "chat-m chat-" + m.author);
      item.appendChild(el("b", null, m.author === "support" ? T.support : T.you));
      item.appendChild(el("p", null, m.screenshot ? T.screenshot_sent : m.text));
      log.appendChild(item);
    });
    shown = thread.messages.length;
    part("note").textContent = thread.status === "closed" ? T.closed : "";
    log.scrollTop = log.scrollHeight;
  }

  function poll() {
    var key = stored();
    clearTimeout(timer);
    if (!key || panel.hidden) return;
    fetch(worker + "/api/chat/threads/" + encodeURIComponent(key), { cache: "no-store" })
      .then(function (r) {
        if (r.status === 404) { forget(); restart(); return null; }
        return r.ok ? r.json() : Promise.reject(r.status);
      })
      .then(function (thread) { if (thread) render(thread); })
      .catch(function () { part("note").textContent = T.offline; })
      .then(function () { timer = setTimeout(poll, POLL_MS); });
  }

  function restart() {
    part("log").textContent = "";
    shown = 0;
    part("email").hidden = false;
    part("shot").hidden = true;
    part("note").textContent = orderToken() ? T.empty + " " + T.order : T.empty;
  }

  function problem(answer) {
    var errors = answer.errors || {};
    return answer.error || Object.keys(errors).map(function (f) { return errors[f]; }).join(" ") || T.offline;
  }

  function send(event) {
    event.preventDefault();
    var text = part("text");
    var key = stored();
    var body = key ? { text: text.value } : {
      lang: T.lang, text: text.value, email: part("email").value || undefined, order_token: orderToken() || undefined
    };
    var url = worker + "/api/chat/threads" + (key ? "/" + encodeURIComponent(key) + "/messages" : "");
    fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) })
      .then(function (r) {
        return r.json().then(function (answer) {
          if (r.status !== 201) { part("note").textContent = problem(answer); return; }
          if (answer.thread_key) remember(answer.thread_key);
          text.value = "";
          poll();
        });
      })
      .catch(function () { part("note").textContent = T.offline; });
  }

  function upload(input) {
    var image = input.files[0];
    var key = stored();
    input.value = "";
    if (!image || !key) return;
    if (["image/png", "image/jpeg"].indexOf(image.type) < 0 || image.size > 5242880) {
      part("note").textContent = T.screenshot_invalid;
      return;
    }
    fetch(worker + "/api/chat/threads/" + encodeURIComponent(key) + "/screenshot",
      { method: "POST", headers: { "Content-Type": image.type }, body: image })
      .then(function (r) {
        return r.json().then(function (answer) {
          if (r.status !== 201) { part("note").textContent = problem(answer); return; }
          poll();
        });
      })
      .catch(function () { part("note").textContent = T.offline; });
  }

  function show() {
    panel.hidden = false;
    if (stored()) poll(); else restart();
    part("text").focus();
  }
  function hide() { panel.hidden = true; clearTimeout(timer); }

  var link = /^#chat=(.+)$/.exec(location.hash);
  if (link) {
    remember(decodeURIComponent(link[1]));
    history.replaceState(null, "", location.pathname + location.search);
  }
  fetch(opener.getAttribute("data-strings"))
    .then(function (r) { return r.json(); })
    .then(function (strings) {
      T = strings;
      build();
      window.QEChat = { open: show };
      show();
    })
    .catch(function () { location.href = opener.href; });
})();
