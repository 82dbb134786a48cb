/* Keeps the driver's manifest usable without signal: pages under /driver/m/ and
   their script and style are answered from the network when there is one (and kept),
   from the copy otherwise. Taps are not the worker's business: the page queues them. */
"use strict";
var CACHE = "passaggio-driver-v1";
self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (e) { e.waitUntil(self.clients.claim()); });
self.addEventListener("fetch", function (e) {
  var request = e.request;
  if (request.method !== "GET") { return; }
  var path = new URL(request.url).pathname;
  var ours = path.indexOf("/driver/m/") === 0 || path.indexOf("/driver/static/") === 0 ||
    path.indexOf("/static/") === 0;
  if (!ours) { return; }
  function copy() {
    return caches.match(request).then(function (hit) {
      return hit || new Response("", { status: 503 });
    });
  }
  e.respondWith(fetch(request).then(function (response) {
    if (response.ok) {
      var kept = response.clone();
      caches.open(CACHE).then(function (cache) { cache.put(request, kept); });
      return response;
    }
    // a gateway that answers for a network that is not there: the copy is better
    return response.status >= 500 ? copy() : response;
  }).catch(copy));
});
