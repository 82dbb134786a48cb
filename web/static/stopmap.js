/* The stops map (after Leaflet and the day map's script): a click places the stop (latitude and longitude fill in; typing
   still works), then the point where it meets the road and the distance are shown
   before saving, with a warning when it is far. */
(function () {
  "use strict";
  var el = document.getElementById("stopmap");
  if (!el || !window.passaggioMap) { return; }
  var lat = document.getElementById("lat");
  var lon = document.getElementById("lon");
  var info = document.getElementById("snapinfo");
  var help = document.getElementById("maphelp");
  if (help) { help.classList.remove("js-only"); }
  var map = window.passaggioMap(el);  // from the day map's script, loaded before this one
  map.fitBounds([[41.0, 15.0], [42.0, 16.2]]);
  JSON.parse(el.dataset.stops || "[]").forEach(function (s) {
    var name = document.createElement("span");
    name.textContent = s[2];  // a stop's name is text, never markup
    L.circleMarker([s[0], s[1]], { radius: 3, color: "#555", weight: 1, fillOpacity: 0.6 })
      .bindTooltip(name).addTo(map);
  });
  var placed = L.layerGroup().addTo(map);
  var asked = 0;

  function show(point) {
    placed.clearLayers();
    // what was shown was for the point before: gone until the new answer comes
    info.textContent = "";
    delete el.dataset.snapped;
    L.circleMarker(point, { radius: 7, color: "#1e3a8a", weight: 3, fillOpacity: 0.3 }).addTo(placed);
    var ticket = ++asked;
    var url = el.dataset.snap + "?lat=" + point[0].toFixed(6) + "&lon=" + point[1].toFixed(6);
    fetch(url, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (answer) {
        if (ticket !== asked) { return; }
        info.textContent = answer.text || answer.error || "";
        info.className = answer.far || answer.error ? "warn" : "flash";
        if (answer.lat !== undefined) {
          var road = [answer.lat, answer.lon];
          L.polyline([point, road], { color: answer.far ? "#b91c1c" : "#15803d", dashArray: "4 4" }).addTo(placed);
          L.circleMarker(road, { radius: 5, color: answer.far ? "#b91c1c" : "#15803d", fillOpacity: 1 }).addTo(placed);
        }
        el.dataset.snapped = String(answer.distance_m);
      });
  }

  map.on("click", function (event) {
    lat.value = event.latlng.lat.toFixed(6);
    lon.value = event.latlng.lng.toFixed(6);
    show([event.latlng.lat, event.latlng.lng]);
    // from afar a click is only roughly placed: come closer, a second click refines it
    if (map.getZoom() < 15) { map.setView(event.latlng, 16); }
  });
  function typed() {
    var a = parseFloat(lat.value), b = parseFloat(lon.value);
    if (isFinite(a) && isFinite(b)) {
      show([a, b]);
      map.panTo([a, b]);
    }
  }
  lat.addEventListener("change", typed);
  lon.addEventListener("change", typed);
  if (lat.value && lon.value) { typed(); }
}());
