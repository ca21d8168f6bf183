// The chat widget: text is always inserted as text (textContent), never as HTML.
(function () {
  "use strict";
  var log = document.getElementById("chat-log");
  var form = document.getElementById("chat-form");
  var input = document.getElementById("chat-input");
  var key = "luukku-session";

  function add(who, text, buttons) {
    var li = document.createElement("li");
    li.className = "msg msg-" + who;
    var p = document.createElement("p");
    p.textContent = text;
    li.appendChild(p);
    if (buttons && buttons.length) {
      var group = document.createElement("div");
      group.className = "choices";
      buttons.forEach(function (b) {
        var btn = document.createElement("button");
        btn.type = "button";
        btn.textContent = b.title;
        btn.addEventListener("click", function () { send(b.payload, b.title); });
        group.appendChild(btn);
      });
      li.appendChild(group);
    }
    log.appendChild(li);
    li.scrollIntoView({block: "end"});
  }

  function send(text, shown) {
    add("me", shown || text);
    form.setAttribute("aria-busy", "true");
    fetch("/api/chat", {
      method: "POST",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify({session: sessionStorage.getItem(key), text: text})
    }).then(function (resp) {
      return resp.json().then(function (body) { return {status: resp.status, body: body}; });
    }).then(function (r) {
      if (r.status === 404) { sessionStorage.removeItem(key); }
      if (r.status === 429) {
        add("bot", "Liian monta viestiä lyhyessä ajassa: odota hetki. / För många meddelanden, vänta lite. / " +
            "Too many messages in a short time: please wait a moment.");
        return;
      }
      if (r.body.session) { sessionStorage.setItem(key, r.body.session); }
      if (r.body.error) { add("bot", r.body.error); return; }
      (r.body.replies || []).forEach(function (reply) { add("bot", reply.text, reply.buttons); });
    }).catch(function () {
      add("bot", "Yhteys katkesi. Yritä uudelleen. / Connection lost, please try again.");
    }).finally(function () { form.removeAttribute("aria-busy"); });
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value.trim();
    if (!text) { return; }
    input.value = "";
    send(text);
  });
})();
