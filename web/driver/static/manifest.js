/* The driver's manifest, offline first: every tap is an event with a key of its own,
   kept in the phone's storage until the server has it (exactly once: the server keeps
   one event per key), and sent whenever there is signal. The page itself is cached by
   the service worker, so a reload without signal still shows the manifest. */
(function () {
  "use strict";
  var list = document.getElementById("manifest");
  var status = document.getElementById("sync");
  if (!list || !status || !window.fetch || !window.localStorage) { return; }
  var url = list.dataset.events;
  var store = "passaggio:" + url;
  var state = JSON.parse(localStorage.getItem(store) || '{"queue": [], "done": {}}');
  // what any phone recorded already (a second phone on the same link shows it done)
  state.changed = false;  // this page shows the plan as it is now
  var known = JSON.parse(list.dataset.done || "{}");
  Object.keys(known).forEach(function (what) {
    if (!state.done[what]) { state.done[what] = { key: known[what], t: 0 }; }
  });
  var position = null;

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/driver/sw.js", { scope: "/driver/" }).catch(function () {});
  }
  if (navigator.geolocation) {
    navigator.geolocation.watchPosition(function (p) {
      position = [p.coords.latitude, p.coords.longitude];
    }, function () {}, { enableHighAccuracy: false, maximumAge: 60000 });
  }
  function save() { localStorage.setItem(store, JSON.stringify(state)); }
  function key() {
    var a = new Uint8Array(12);
    crypto.getRandomValues(a);
    return Array.prototype.map.call(a, function (x) { return ("0" + x.toString(16)).slice(-2); }).join("");
  }
  function id(b) { return [b.dataset.kind, b.dataset.stop || "", b.dataset.booking || ""].join("|"); }
  function show(text) { status.textContent = text; }
  function paint() {
    document.querySelectorAll("button[data-kind]").forEach(function (b) {
      var done = state.done[id(b)];
      b.classList.toggle("done", !!done);
      if (b.dataset.kind === "no_show" && !done) {
        var told = Number(b.closest(".stop").dataset.time) + Number(list.dataset.wait);
        b.disabled = secondsOfDay() < told;
      }
    });
    // the next stop: the first the vehicle has not left yet
    var next = null;
    document.querySelectorAll(".stop").forEach(function (stop) {
      var left = stop.querySelector("button[data-kind=departed]");
      stop.classList.remove("next");
      if (!next && (!left || !left.classList.contains("done"))) { next = stop; }
    });
    if (next) { next.classList.add("next"); }
    if (next && !paint.scrolled) { next.scrollIntoView(); paint.scrolled = true; }
    if (state.queue.length) { show(status.dataset.pending + " " + state.queue.length); }
    else if (!state.changed) { show(""); }
  }
  function secondsOfDay() {
    var start = new Date(list.dataset.day + "T00:00:00");
    return (Date.now() - start.getTime()) / 1000;
  }
  function flush() {
    if (!state.queue.length || flush.busy) { return; }
    flush.busy = true;
    fetch(url, {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ events: state.queue })
    }).then(function (r) { return r.json(); }).then(function (answer) {
      var gone = {};
      (answer.accepted || []).concat(answer.duplicates || []).forEach(function (k) { gone[k] = 1; });
      (answer.refused || []).forEach(function (r) {
        var event = state.queue.filter(function (e) { return e.key === r.key; })[0];
        if (r.code === "far_from_stop" && event && window.confirm(status.dataset.far)) {
          event.confirm_far = true;
          return;
        }
        gone[r.key] = 1;
        if (event) { delete state.done[event.id]; }
        show(r.error);
      });
      state.queue = state.queue.filter(function (e) { return !gone[e.key]; });
      if (String(answer.plan_version) !== list.dataset.version) {
        state.changed = true;
        show(status.dataset.changed);
        // nothing left to send: show the new plan (the page is fetched anew)
        if (!state.queue.length) { setTimeout(function () { location.reload(); }, 3000); }
      }
      save();
      paint();
    }).catch(function () {}).then(function () { flush.busy = false; });
  }
  document.addEventListener("submit", function (e) {
    var form = e.target;
    var button = form.querySelector("button[data-kind]");
    if (!button) { return; }
    e.preventDefault();
    var event = { key: key(), kind: button.dataset.kind, at: new Date().toISOString(), id: id(button) };
    if (button.dataset.stop) { event.stop = Number(button.dataset.stop); }
    if (button.dataset.booking) { event.booking = button.dataset.booking; }
    var seats = form.querySelector("input[name=seats]");
    if (seats && seats.value) { event.seats = Number(seats.value); }
    var odometer = form.querySelector("input[name=odometer_km]");
    if (odometer && odometer.value) { event.odometer_km = Number(odometer.value); }
    event.checks = Array.prototype.map.call(form.querySelectorAll("input[name=checks]:checked"),
      function (c) { return c.value; });
    if (position) { event.lat = position[0]; event.lon = position[1]; }
    var previous = state.done[event.id];
    if (previous && Date.now() - previous.t < Number(list.dataset.undo) * 1000) {
      // a second tap within the undo time takes the first back
      state.queue.push({ key: key(), kind: "undo", at: new Date().toISOString(), undoes: previous.key });
      delete state.done[event.id];
    } else if (!previous) {
      state.queue.push(event);
      state.done[event.id] = { key: event.key, t: Date.now() };
    }
    save();
    paint();
    flush();
  });
  window.addEventListener("online", flush);
  setInterval(function () { paint(); flush(); }, 15000);
  paint();
  flush();
})();
