// Staff pages: the open case page follows its case live; My cases offers push notifications.
(function () {
  "use strict";
  var LIVE_SECONDS = 2; // a new customer message shows within this (plus one request) while the page is open
  var HIDDEN_SECONDS = 15; // a tab in the background asks less often, and marks nothing seen
  var token = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  function post(url, body, method) {
    return fetch(url, {method: method || "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": token}, body: JSON.stringify(body)});
  }

  var list = document.getElementById("transcript");
  if (list && list.dataset.live) {
    var events = document.getElementById("events");
    var unseen = 0;
    var afterEvent = list.dataset.afterEvent;
    var markSeen = function () {
      if (unseen && document.visibilityState === "visible") {
        unseen = 0;
        post(list.dataset.seen, {event: Number(afterEvent)});
      }
    };
    var add = function (target, html) {
      var box = document.createElement("template");
      box.innerHTML = html.trim();
      target.appendChild(box.content);
    };
    var tick = function () {
      var url = list.dataset.live + "?after_message=" + list.dataset.afterMessage + "&after_event=" + afterEvent;
      fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (data) {
            var region = list.parentElement;
            var atEnd = region.scrollTop + region.clientHeight >= region.scrollHeight - 8;
            data.messages.forEach(function (html) { add(list, html); });
            data.events.forEach(function (html) { add(events, html); });
            if (atEnd) { region.scrollTop = region.scrollHeight; }
            list.dataset.afterMessage = data.after_message;
            afterEvent = data.after_event;
            unseen += data.customer;
            markSeen();
          }
        })
        .catch(function () { /* offline for a moment: the next tick asks again */ })
        .then(function () {
          setTimeout(tick, 1000 * (document.visibilityState === "visible" ? LIVE_SECONDS : HIDDEN_SECONDS));
        });
    };
    document.addEventListener("visibilitychange", markSeen);
    setTimeout(tick, 1000 * LIVE_SECONDS);
  }

  var body = document.body;
  var button = document.getElementById("push-on");
  if (button && body.dataset.pushKey && "serviceWorker" in navigator && "PushManager" in window) {
    var state = document.getElementById("push-state");
    var key = function (text) {
      var raw = atob(text.replace(/-/g, "+").replace(/_/g, "/") + "==".slice(0, (4 - text.length % 4) % 4));
      return Uint8Array.from(raw, function (c) { return c.charCodeAt(0); });
    };
    button.closest("[hidden]").hidden = false;
    button.addEventListener("click", function () {
      navigator.serviceWorker.register(body.dataset.sw, {scope: "/staff/"})
        .then(function (reg) { return navigator.serviceWorker.ready.then(function () { return reg; }); })
        .then(function (reg) {
          return reg.pushManager.subscribe({userVisibleOnly: true, applicationServerKey: key(body.dataset.pushKey)});
        })
        .then(function (sub) { return post(body.dataset.pushUrl, sub.toJSON()); })
        .then(function (r) { state.textContent = r.ok ? button.dataset.on || "✓" : String(r.status); })
        .catch(function (err) { state.textContent = err.message; });
    });
  }
})();
