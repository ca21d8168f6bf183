// The chat widget: text is always inserted as text (textContent), never as HTML.
// The thread lives on the server: the widget draws what GET /api/chat/<session> returns, so a reload shows the
// same conversation, and a specialist's replies appear while the page is open. The session id is the thread's
// only credential: it is kept in sessionStorage (this tab, until it is closed), never localStorage, so the next
// person at a shared computer does not read the thread; "End conversation" forgets it at once.
(function () {
  "use strict";
  var log = document.getElementById("chat-log");
  var form = document.getElementById("chat-form");
  var input = document.getElementById("chat-input");
  var key = "luukku-session";
  // The page's language (its switch, or the browser's preference): the bot answers in it until the customer
  // writes in another one.
  var language = document.documentElement.lang;
  var lastId = 0;
  var timer = null;
  var polling = false;

  var store = window.sessionStorage;
  var endButton = document.getElementById("chat-end");
  var RETRIES = 5;
  try { window.localStorage.removeItem(key); } catch (e) { /* an older widget kept it there: forget it */ }

  function session() { return store.getItem(key); }

  function showEnd() {
    // Only a conversation under way can be ended.
    if (endButton) { endButton.hidden = !session(); }
  }

  function forget() {
    store.removeItem(key);
    lastId = 0;
    showEnd();
  }

  function disableOldChoices() {
    // Only the newest message's buttons can be answered; older ones are history.
    var groups = log.querySelectorAll(".choices");
    groups.forEach(function (group, i) {
      var newest = i === groups.length - 1 && group.parentNode === log.lastElementChild;
      group.querySelectorAll("button").forEach(function (b) { b.disabled = !newest; });
    });
  }

  function add(who, text, buttons, name, files) {
    var li = document.createElement("li");
    li.className = "msg msg-" + who;
    if (name) {
      var by = document.createElement("span");
      by.className = "msg-name";
      by.textContent = name;
      li.appendChild(by);
    }
    var p = document.createElement("p");
    p.textContent = text;
    li.appendChild(p);
    (files || []).forEach(function (f) {
      var a = document.createElement("a");
      a.className = "msg-file";
      a.href = f.url;
      a.setAttribute("download", "");
      a.textContent = f.name;
      li.appendChild(a);
    });
    if (buttons && buttons.length) {
      var group = document.createElement("div");
      group.className = "choices";
      buttons.forEach(function (b) {
        var btn = document.createElement("button");
        btn.type = "button";
        btn.textContent = b.title;
        btn.addEventListener("click", function () {
          group.querySelectorAll("button").forEach(function (x) { x.disabled = true; });
          send(b.payload, b.title);
        });
        group.appendChild(btn);
      });
      li.appendChild(group);
    }
    log.appendChild(li);
    li.scrollIntoView({block: "end"});
    return li;
  }

  function draw(messages) {
    messages.forEach(function (m) {
      if (m.id <= lastId) { return; }
      lastId = m.id;
      add(m.author === "customer" ? "me" : m.author, m.text, m.buttons, m.author === "staff" ? m.name : null,
          m.files);
    });
    disableOldChoices();
  }

  function poll() {
    var s = session();
    if (!s || polling) { return Promise.resolve(); }
    polling = true;
    return fetch("/api/chat/" + encodeURIComponent(s) + "?after=" + lastId).then(function (resp) {
      if (resp.status === 404) { forget(); return null; }
      return resp.ok ? resp.json() : null;
    }).then(function (body) {
      if (body && body.messages) { draw(body.messages); }
    }).catch(function () { /* offline for a moment: the next poll catches up */ })
      .finally(function () { polling = false; });
  }

  function schedule() {
    // Often while the page is in view, rarely in a background tab; each poll is one small indexed query.
    clearTimeout(timer);
    timer = setTimeout(function () { poll().finally(schedule); },
                       document.visibilityState === "visible" ? 4000 : 30000);
  }

  function campaignCode() {
    var code = new URLSearchParams(window.location.search).get("c");
    return code && /^[A-Za-z0-9_-]{2,40}$/.test(code) ? code : null;
  }

  function send(text, shown, retried, attempt, pending) {
    attempt = attempt || 0;
    if (!pending) {
      pending = add("me", shown || text);
      pending.classList.add("pending");
    }
    form.setAttribute("aria-busy", "true");
    fetch("/api/chat", {
      method: "POST",
      headers: {"Content-Type": "application/json"},
      // The campaign link's ?c=CODE goes with the first message; the router keeps it on the conversation.
      body: JSON.stringify({session: session(), text: text, language: language,
                            campaign: session() ? null : campaignCode()})
    }).then(function (resp) {
      return resp.json().then(function (body) {
        return {status: resp.status, body: body, retryAfter: resp.headers.get("Retry-After")};
      });
    }).then(function (r) {
      if (r.status === 404 && !retried) {  // the conversation expired: start a new one with the same text
        forget();
        pending.remove();
        send(text, shown, true);
        return;
      }
      if (r.status === 503 && attempt < RETRIES) {
        // Nothing was stored: said once, then sent again by itself after the server's Retry-After.
        if (attempt === 0 && r.body.error) { add("bot", r.body.error); }
        var wait = parseInt(r.retryAfter, 10);
        setTimeout(function () { send(text, shown, retried, attempt + 1, pending); },
                   (isNaN(wait) ? 5 : Math.min(wait, 30)) * 1000 * (attempt + 1));
        return;
      }
      if (r.status === 429) {
        add("bot", log.dataset.busy);
        return;
      }
      if (r.body.error) { add("bot", r.body.error); return; }
      if (r.body.session) { store.setItem(key, r.body.session); showEnd(); }
      pending.remove();
      return poll();
    }).catch(function () {
      add("bot", log.dataset.offline);
    }).finally(function () { form.removeAttribute("aria-busy"); schedule(); });
  }

  if (endButton) {
    endButton.addEventListener("click", function () {
      forget();
      while (log.firstChild) { log.removeChild(log.firstChild); }
      add("bot", log.dataset.ended);
      input.focus();
    });
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value.trim();
    if (!text) { return; }
    input.value = "";
    send(text);
  });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") { poll(); schedule(); }
  });
  showEnd();
  // The page ships the send button disabled: before this script runs, Enter must not submit the form natively
  // (the typed text would land in the address bar, the history and the server's access log).
  document.getElementById("chat-send").disabled = false;
  poll().finally(schedule);
})();
