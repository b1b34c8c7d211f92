/*
 * shopassist chat widget: one tag puts a chat bubble on any page.
 *
 *   <script src="https://ASSISTANT_HOST/widget.js" data-token-url="/shopassist-token" defer></script>
 *
 * Attributes of the script tag:
 *   data-token-url  the host site's own endpoint that returns {"token": "<JWT>"} for the signed-in
 *                   shopper (the shop's backend signs it; the secret never reaches the browser)
 *   data-token      a token given directly (instead of data-token-url)
 *   data-user-id    dev servers only: act as this user without a token
 *   data-api        the assistant's base URL (default: where this script came from)
 *   data-title      the panel's title (default "Shopping assistant")
 *   data-open       "true" to start with the panel open
 *
 * window.ShopAssist = {open(), close(), send(text), setToken(token)}.
 * The API's CORS settings must allow the host page's origin.
 */
(function () {
  "use strict";
  if (window.ShopAssist) return;
  var script = document.currentScript;
  var attr = function (name) { return script ? script.getAttribute(name) : null; };
  var api = (attr("data-api") || (script ? new URL(script.src, location.href).origin : "")).replace(/\/$/, "");
  var tokenUrl = attr("data-token-url");
  var token = attr("data-token");
  var userId = attr("data-user-id");
  var storeKey = "shopassist:" + api + ":session";
  var sessionId = null;
  try { sessionId = sessionStorage.getItem(storeKey); } catch (e) { /* storage blocked */ }

  var CSS = [
    ":host{all:initial;font:14px/1.4 system-ui,-apple-system,'Segoe UI',sans-serif;color:#1d232b}",
    ".bubble{position:fixed;right:20px;bottom:20px;width:56px;height:56px;border-radius:50%;border:0;",
    "background:#1f6feb;color:#fff;font-size:26px;cursor:pointer;box-shadow:0 4px 14px #0004;z-index:2147483646}",
    ".panel{position:fixed;right:20px;bottom:88px;width:360px;max-width:calc(100vw - 40px);height:520px;",
    "max-height:calc(100vh - 120px);background:#fff;border-radius:12px;box-shadow:0 8px 30px #0005;",
    "display:none;flex-direction:column;overflow:hidden;z-index:2147483647}",
    ".panel.open{display:flex}",
    ".head{background:#1f6feb;color:#fff;padding:10px 14px;font-weight:600;display:flex;justify-content:space-between}",
    ".head button{background:none;border:0;color:#fff;font-size:18px;cursor:pointer}",
    ".log{flex:1;overflow-y:auto;padding:10px;background:#f6f8fa}",
    ".msg{margin:6px 0;padding:8px 10px;border-radius:10px;max-width:85%;white-space:pre-wrap;word-wrap:break-word}",
    ".me{background:#1f6feb;color:#fff;margin-left:auto}",
    ".bot{background:#fff;border:1px solid #d0d7de}",
    ".err{background:#ffebe9;border:1px solid #ff8182}",
    ".card{display:flex;gap:8px;background:#fff;border:1px solid #d0d7de;border-radius:10px;padding:8px;margin:6px 0}",
    ".card img{width:64px;height:64px;object-fit:cover;border-radius:6px;flex:none}",
    ".card .t{font-weight:600}",
    ".card .p s{color:#656d76;margin-right:6px}",
    ".card .p b{color:#cf222e}",
    ".card .why,.card .gap,.card .until{color:#656d76;font-size:12px}",
    ".card .acts{margin-top:4px;display:flex;gap:6px;flex-wrap:wrap}",
    ".card .acts button,.card .acts a{font-size:12px;padding:3px 8px;border-radius:6px;border:1px solid #d0d7de;",
    "background:#f6f8fa;color:#1d232b;cursor:pointer;text-decoration:none}",
    ".card .code{font-family:ui-monospace,monospace;font-weight:600;color:#1a7f37}",
    "form{display:flex;border-top:1px solid #d0d7de}",
    "input{flex:1;border:0;padding:12px;font:inherit;outline:none}",
    "form button{border:0;background:#1f6feb;color:#fff;padding:0 16px;cursor:pointer;font:inherit}",
    "form button:disabled{background:#8c959f}"
  ].join("");

  var host = document.createElement("div");
  host.setAttribute("data-shopassist", "");
  var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
  root.innerHTML =
    "<style>" + CSS + "</style>" +
    "<button class='bubble' aria-label='Chat with the shopping assistant'>\uD83D\uDCAC</button>" +
    "<div class='panel' role='dialog' aria-label='Shopping assistant'>" +
    "<div class='head'><span class='title'></span><button class='x' aria-label='Close'>\u00D7</button></div>" +
    "<div class='log' aria-live='polite'></div>" +
    "<form><input name='q' maxlength='2000' autocomplete='off' placeholder='Ask about deals\u2026'>" +
    "<button type='submit'>Send</button></form></div>";
  var $ = function (sel) { return root.querySelector(sel); };
  var panel = $(".panel"), log = $(".log"), form = $("form"), input = $("input"), sendBtn = $("form button");
  $(".title").textContent = attr("data-title") || "Shopping assistant";

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text != null) node.textContent = text;
    return node;
  }
  function scroll() { log.scrollTop = log.scrollHeight; }
  function say(cls, text) { var m = el("div", "msg " + cls, text); log.appendChild(m); scroll(); return m; }
  function uid() {
    return (window.crypto && crypto.randomUUID) ? crypto.randomUUID() :
      Date.now().toString(36) + Math.random().toString(36).slice(2);
  }

  function getToken(refresh) {
    if (token && !refresh) return Promise.resolve(token);
    if (!tokenUrl) return Promise.resolve(token);
    return fetch(tokenUrl, { credentials: "include" })
      .then(function (r) { if (!r.ok) throw new Error("token endpoint: " + r.status); return r.json(); })
      .then(function (j) { token = j.token; return token; });
  }

  function call(path, body, retried) {
    return getToken(false).then(function (t) {
      var headers = { "Content-Type": "application/json" };
      if (t) headers.Authorization = "Bearer " + t;
      return fetch(api + path, { method: "POST", headers: headers, body: JSON.stringify(body) });
    }).then(function (r) {
      if (r.status === 401 && tokenUrl && !retried) {
        return getToken(true).then(function () { return call(path, body, true); });
      }
      return r;
    });
  }

  function errorText(r) {
    return r.json().then(function (j) { return (j.error && j.error.message) || ("error " + r.status); },
      function () { return "error " + r.status; });
  }

  function feedback(rec, type) {
    call("/v1/feedback", { event_id: uid(), impression_id: rec.impression_id, type: type })
      .catch(function () { /* feedback is best effort */ });
  }

  function card(rec) {
    var c = el("div", "card");
    if (rec.image_url) { var img = el("img"); img.src = rec.image_url; img.alt = ""; c.appendChild(img); }
    var body = el("div");
    body.appendChild(el("div", "t", rec.title));
    if (rec.final_price || rec.price) {
      var p = el("div", "p");
      if (rec.price && rec.final_price && rec.final_price !== rec.price) p.appendChild(el("s", "", rec.price));
      p.appendChild(el("b", "", (rec.final_price || rec.price) + " " + (rec.currency || "")));
      body.appendChild(p);
    }
    if (rec.reason) body.appendChild(el("div", "why", rec.reason));
    if (rec.valid_until) body.appendChild(el("div", "until", "until " + new Date(rec.valid_until).toLocaleString()));
    if (rec.cart_gap) {
      body.appendChild(el("div", "gap", "add " + rec.cart_gap.add + " more to save " + rec.cart_gap.unlocks));
    }
    var acts = el("div", "acts");
    if (rec.url) {
      var a = el("a", "", "View"); a.href = rec.url; a.target = "_blank"; a.rel = "noopener";
      a.addEventListener("click", function () { feedback(rec, "click"); });
      acts.appendChild(a);
    }
    if (rec.needs_claim) {
      var activity = rec.kind === "activity" ? rec.id : (rec.activity_ids || [])[0];
      if (activity) {
        var claim = el("button", "", "Claim coupon");
        var key = uid();
        claim.addEventListener("click", function () {
          claim.disabled = true;
          call("/v1/claims", { user_id: userId || undefined, activity_id: activity, idempotency_key: key })
            .then(function (r) {
              if (r.ok) return r.json().then(function (j) {
                feedback(rec, "claim");
                var code = el("span", "code", j.code);
                claim.replaceWith(code);
              });
              return errorText(r).then(function (t) { claim.textContent = t; });
            })
            .catch(function () { claim.disabled = false; });
        });
        acts.appendChild(claim);
      }
    }
    var dismiss = el("button", "", "Not interested");
    dismiss.addEventListener("click", function () { feedback(rec, "dismiss"); c.remove(); });
    acts.appendChild(dismiss);
    body.appendChild(acts);
    c.appendChild(body);
    return c;
  }

  function parseEvents(buffer, onEvent) {
    var parts = buffer.split("\n\n");
    var rest = parts.pop();
    parts.forEach(function (block) {
      var event = "message", data = "";
      block.split("\n").forEach(function (line) {
        if (line.indexOf("event:") === 0) event = line.slice(6).trim();
        else if (line.indexOf("data:") === 0) data += line.slice(5).trim();
      });
      if (data) onEvent(event, JSON.parse(data));
    });
    return rest;
  }

  function send(text) {
    text = (text || "").trim();
    if (!text) return Promise.resolve();
    say("me", text);
    var bot = say("bot", "\u2026");
    var streamed = "";
    sendBtn.disabled = true;
    var body = { user_id: userId || undefined, session_id: sessionId, message: text };
    return call("/v1/chat/stream", body).then(function (r) {
      if (r.status === 404 && sessionId) {  // the session is gone: start a new one
        sessionId = null;
        body.session_id = null;
        return call("/v1/chat/stream", body);
      }
      return r;
    }).then(function (r) {
      if (!r.ok) return errorText(r).then(function (t) { bot.className = "msg err"; bot.textContent = t; });
      var reader = r.body.getReader(), decoder = new TextDecoder(), buffer = "";
      function onEvent(event, data) {
        if (event === "token") { streamed += data.text; bot.textContent = streamed; scroll(); }
        else if (event === "result") {
          sessionId = data.session_id;
          try { sessionStorage.setItem(storeKey, sessionId); } catch (e) { /* storage blocked */ }
          bot.textContent = data.reply || (data.agent_active ? "An agent will answer you here." : "");
          (data.recommendations || []).forEach(function (rec) { log.appendChild(card(rec)); });
          scroll();
        } else if (event === "error") { bot.className = "msg err"; bot.textContent = data.error.message; }
      }
      function pump() {
        return reader.read().then(function (chunk) {
          if (chunk.done) return;
          buffer = parseEvents(buffer + decoder.decode(chunk.value, { stream: true }), onEvent);
          return pump();
        });
      }
      return pump();
    }).catch(function (e) {
      bot.className = "msg err";
      bot.textContent = "The assistant cannot be reached right now.";
    }).then(function () { sendBtn.disabled = false; input.focus(); });
  }

  function open() { panel.classList.add("open"); input.focus(); }
  function close() { panel.classList.remove("open"); }
  $(".bubble").addEventListener("click", function () { panel.classList.contains("open") ? close() : open(); });
  $(".x").addEventListener("click", close);
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var text = input.value;
    input.value = "";
    send(text);
  });

  function mount() { document.body.appendChild(host); if (attr("data-open") === "true") open(); }
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);
  window.ShopAssist = { open: open, close: close, send: send, setToken: function (t) { token = t; } };
})();
