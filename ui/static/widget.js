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
 *   data-poll-ms    how often to look for an agent's messages while one owns the session (3000)
 *
 * The panel streams the reply (POST /v1/chat/stream), then shows up to three cards: title, price,
 * final price after the best deal, deal badges, the why-line and the cart gap, with buttons to
 * open, add to cart, claim a coupon or dismiss (each recorded through POST /v1/feedback). The
 * session id is kept in sessionStorage for the tab. While a customer-service agent owns the
 * session (agent_active), GET /v1/sessions/ID is polled every few seconds and the agent's
 * messages appear in the panel. An error shows the API's own message.
 *
 * window.ShopAssist = {open(), close(), send(text), setToken(token), sessionId()}.
 * The API's CORS settings must allow the host page's origin (shopassist serve --cors-origin).
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
    "background:#1f6feb;color:#fff;font-size:26px;cursor:pointer;box-shadow:0 4px 14px #0004;z-index:2147483646;",
    "display:flex;align-items:center;justify-content:center}",
    ".panel{position:fixed;right:20px;bottom:88px;width:370px;max-width:calc(100vw - 40px);height:600px;",
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
    ".card .badges{display:flex;gap:4px;flex-wrap:wrap;margin-bottom:2px}",
    ".badge{font-size:11px;font-weight:600;padding:1px 6px;border-radius:8px;background:#fff1e5;color:#bc4c00}",
    ".badge.flash{background:#ffebe9;color:#cf222e}",
    ".badge.claim{background:#dafbe1;color:#1a7f37}",
    ".agent{background:#fff8c5;border:1px solid #d4a72c}",
    ".agent .who{display:block;font-size:11px;font-weight:600;color:#7d4e00}",
    ".card .price s{color:#656d76;margin-right:6px}",
    ".card .price b{color:#cf222e}",
    ".card .why,.card .gap,.card .until{color:#656d76;font-size:12px}",
    ".card .acts{margin-top:4px;display:flex;gap:6px;flex-wrap:wrap}",
    ".card .acts button,.card .acts a{font-size:12px;padding:3px 8px;border-radius:6px;border:1px solid #d0d7de;",
    "background:#f6f8fa;color:#1d232b;cursor:pointer;text-decoration:none}",
    ".card .code{font-family:ui-monospace,monospace;font-weight:600;color:#1a7f37}",
    ".card .acts .done{border-color:#1a7f37;color:#1a7f37;background:#dafbe1;cursor:default}",
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
    // An SVG speech bubble: an emoji would need an emoji font on the shopper's machine.
    "<button class='bubble' aria-label='Chat with the shopping assistant'>" +
    "<svg viewBox='0 0 24 24' width='28' height='28' aria-hidden='true'><path fill='currentColor' " +
    "d='M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z'/></svg>" +
    "</button>" +
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
    return fetch(tokenUrl, { credentials: "same-origin" })
      .then(function (r) {
        if (r.ok) return r.json();
        var e = new Error(r.status === 401 || r.status === 403 ?
          "Please sign in to chat with the shopping assistant." :
          "The shop could not identify you right now (" + r.status + ").");
        e.shown = true;  // a message for the shopper
        throw e;
      })
      .then(function (j) { token = j.token; return token; });
  }

  // One API request with the shopper's token; a 401 fetches a fresh token once and retries.
  function call(method, path, body, retried) {
    return getToken(false).then(function (t) {
      var headers = {};
      if (t) headers.Authorization = "Bearer " + t;
      var init = { method: method, headers: headers };
      if (body !== undefined) { headers["Content-Type"] = "application/json"; init.body = JSON.stringify(body); }
      return fetch(api + path, init);
    }).then(function (r) {
      if (r.status === 401 && tokenUrl && !retried) {
        return getToken(true).then(function () { return call(method, path, body, true); });
      }
      return r;
    });
  }
  function post(path, body) { return call("POST", path, body); }

  function errorText(r) {
    return r.json().then(function (j) { return (j.error && j.error.message) || ("error " + r.status); },
      function () { return "error " + r.status; });
  }

  function feedback(rec, type, extra) {
    var body = { event_id: uid(), impression_id: rec.impression_id, type: type };
    for (var k in extra || {}) body[k] = extra[k];
    return post("/v1/feedback", body);
  }

  var DEALS = { flash_sale: "Flash sale", percent_off: "Sale", member_day: "Member day",
    threshold: "Spend & save", bundle: "Bundle", coupon: "Coupon", new_user: "New-user coupon",
    free_shipping: "Free shipping" };

  function money(amount, currency) {
    return (currency === "USD" ? "$" + amount : amount + (currency ? " " + currency : ""));
  }

  function card(rec) {
    var c = el("div", "card");
    c.setAttribute("data-impression", rec.impression_id);
    if (rec.image_url) {
      var img = el("img"); img.src = rec.image_url; img.alt = "";
      img.addEventListener("error", function () { img.remove(); });
      c.appendChild(img);
    }
    var body = el("div");
    var badges = el("div", "badges");
    (rec.deals || []).slice(0, 2).forEach(function (d) {
      var saving = d.saving && Number(d.saving) > 0 ? " \u2212" + money(d.saving, rec.currency) : "";
      var b = el("span", "badge" + (d.type === "flash_sale" ? " flash" : ""), (DEALS[d.type] || d.title) + saving);
      b.title = d.title || "";
      badges.appendChild(b);
    });
    if (rec.needs_claim) badges.appendChild(el("span", "badge claim", "Coupon to claim"));
    if (badges.childNodes.length) body.appendChild(badges);
    body.appendChild(el("div", "t", rec.title));
    if (rec.final_price || rec.price) {
      var p = el("div", "price");
      if (rec.price && rec.final_price && rec.final_price !== rec.price) p.appendChild(el("s", "was", money(rec.price, rec.currency)));
      p.appendChild(el("b", "final", money(rec.final_price || rec.price, rec.currency)));
      body.appendChild(p);
    }
    if (rec.reason) body.appendChild(el("div", "why", rec.reason));
    if (rec.valid_until) body.appendChild(el("div", "until", "until " + new Date(rec.valid_until).toLocaleString()));
    if (rec.cart_gap) {
      body.appendChild(el("div", "gap", "add " + money(rec.cart_gap.add, rec.currency) + " more to save " +
        money(rec.cart_gap.unlocks, rec.currency)));
    }
    var acts = el("div", "acts");
    if (rec.url) {
      var a = el("a", "", "View"); a.href = rec.url; a.target = "_blank"; a.rel = "noopener";
      a.addEventListener("click", function () { feedback(rec, "click").catch(function () {}); });
      acts.appendChild(a);
    }
    if (rec.kind === "product") {
      var add = el("button", "add", "Add to cart");
      add.addEventListener("click", function () {
        add.disabled = true;
        feedback(rec, "add_to_cart", { quantity: 1 }).then(function (r) {
          if (r.ok) { add.textContent = "In cart \u2713"; add.className = "add done"; return; }
          return errorText(r).then(function (t) { add.textContent = t; add.disabled = false; });
        }).catch(function () { add.textContent = "Try again"; add.disabled = false; });
      });
      acts.appendChild(add);
    }
    if (rec.needs_claim) {
      var activity = rec.kind === "activity" ? rec.id : (rec.activity_ids || [])[0];
      if (activity) {
        var claim = el("button", "claim", "Claim coupon");
        var key = uid();
        claim.addEventListener("click", function () {
          claim.disabled = true;
          post("/v1/claims", { user_id: userId || undefined, activity_id: activity, idempotency_key: key })
            .then(function (r) {
              if (r.ok) return r.json().then(function (j) {
                feedback(rec, "claim", { claim_id: j.claim_id }).catch(function () {});
                claim.replaceWith(el("span", "code", j.code));
              });
              return errorText(r).then(function (t) { claim.textContent = t; });
            })
            .catch(function () { claim.disabled = false; });
        });
        acts.appendChild(claim);
      }
    }
    var dismiss = el("button", "dismiss", "Not interested");
    dismiss.addEventListener("click", function () { feedback(rec, "dismiss").catch(function () {}); c.remove(); });
    acts.appendChild(dismiss);
    body.appendChild(acts);
    c.appendChild(body);
    return c;
  }

  // --- a customer-service agent owns the session: poll for the agent's messages ---------------
  var POLL_MS = Number(attr("data-poll-ms")) || 3000;
  var pollTimer = null, seen = {};

  function keepSession(id) {
    sessionId = id;
    try { sessionStorage.setItem(storeKey, id); } catch (e) { /* storage blocked */ }
  }

  function showAgentMessages(history) {
    (history.turns || []).forEach(function (turn) {
      (turn.messages || []).forEach(function (m) {
        var key = m.created_at + "\u0000" + m.text;
        if (m.role !== "agent" || seen[key]) return;
        seen[key] = true;
        var msg = say("bot agent", "");
        msg.appendChild(el("span", "who", "Agent"));
        msg.appendChild(document.createTextNode(m.text));
      });
    });
  }

  function poll(quiet) {
    if (!sessionId) return Promise.resolve();
    var path = "/v1/sessions/" + encodeURIComponent(sessionId) +
      (token || tokenUrl || !userId ? "" : "?user_id=" + encodeURIComponent(userId));
    return call("GET", path).then(function (r) {
      if (!r.ok) return;
      return r.json().then(function (history) {
        if (quiet) {  // reopening a stored session: do not replay old agent messages
          (history.turns || []).forEach(function (t) {
            (t.messages || []).forEach(function (m) { seen[m.created_at + "\u0000" + m.text] = true; });
          });
        } else {
          showAgentMessages(history);
        }
        agentActive(history.agent_active || history.handoff);
      });
    }).catch(function () { /* the next poll retries */ });
  }

  function agentActive(active) {
    if (active && !pollTimer) pollTimer = setInterval(function () { poll(false); }, POLL_MS);
    if (!active && pollTimer) { clearInterval(pollTimer); pollTimer = null; }
  }

  // --- sending ---------------------------------------------------------------------------------
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
    function fail(message) { bot.className = "msg err"; bot.textContent = message; scroll(); }
    return post("/v1/chat/stream", body).then(function (r) {
      if (r.status === 404 && sessionId) {  // the session is gone: start a new one
        sessionId = null;
        body.session_id = null;
        return post("/v1/chat/stream", body);
      }
      return r;
    }).then(function (r) {
      if (!r.ok) return errorText(r).then(fail);
      var reader = r.body.getReader(), decoder = new TextDecoder(), buffer = "";
      function onEvent(event, data) {
        if (event === "token") { streamed += data.text; bot.textContent = streamed; scroll(); }
        else if (event === "result") {
          keepSession(data.session_id);
          if (data.agent_active) {
            bot.className = "msg bot agent";
            bot.textContent = "An agent is with you: their replies appear here.";
          } else {
            bot.textContent = data.reply || (data.handoff ? "An agent will answer you here." : "");
          }
          (data.recommendations || []).slice(0, 3).forEach(function (rec) { log.appendChild(card(rec)); });
          agentActive(data.agent_active || data.handoff);
          scroll();
        } else if (event === "error") { fail(data.error.message); }
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
      fail(e && e.shown ? e.message : "The assistant cannot be reached right now.");
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

  function mount() {
    document.body.appendChild(host);
    if (attr("data-open") === "true") open();
    if (sessionId) poll(true);  // a stored session an agent may own
  }
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);
  window.ShopAssist = {
    open: open, close: close, send: send,
    setToken: function (t) { token = t; },
    sessionId: function () { return sessionId; }
  };
})();
