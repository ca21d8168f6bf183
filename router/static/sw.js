// Staff push notifications: "a customer wrote on LK-…"; a click opens the case.
self.addEventListener("push", function (event) {
  var data = {};
  try { data = event.data ? event.data.json() : {}; } catch (e) { data = {title: "Luukku"}; }
  event.waitUntil(self.registration.showNotification(data.title || "Luukku",
    {body: data.body || "", tag: data.tag, data: {url: data.url}, renotify: true}));
});

self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  var url = (event.notification.data || {}).url || "/staff/";
  event.waitUntil(self.clients.matchAll({type: "window"}).then(function (open) {
    for (var i = 0; i < open.length; i++) {
      if (open[i].url === url && "focus" in open[i]) { return open[i].focus(); }
    }
    return self.clients.openWindow(url);
  }));
});
