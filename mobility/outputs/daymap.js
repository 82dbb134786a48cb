/* The day's plan on Leaflet: one layer per vehicle (path and stops), the unserved
   bookings marked. Data come from the element's data-layers URL (the app's pages), or
   from the JSON script #daymap-data (a standalone file); texts are set with
   textContent (booking codes and stop names are never parsed as HTML).
   window.passaggioMap(el) makes a map with the background of el's data-tiles (the
   stops page uses it too). */
(function () {
  "use strict";
  if (!window.L) { return; }

  /* A Leaflet map on el: tiles from data-tiles (none when empty) asked with the
     hub's origin only, data-attribution always shown. */
  window.passaggioMap = function (el) {
    var map = L.map(el, { zoomSnap: 0.5 });
    if (el.dataset.tiles) {
      L.tileLayer(el.dataset.tiles, {
        maxZoom: 19,
        attribution: el.dataset.attribution,
        referrerPolicy: "strict-origin-when-cross-origin"
      }).addTo(map);
    } else {
      map.attributionControl.addAttribution(el.dataset.attribution);
    }
    return map;
  };

  var el = document.getElementById("daymap");
  if (!el) { return; }
  var labels = JSON.parse(el.dataset.labels || "{}");
  var map = window.passaggioMap(el);
  map.setView([41.45, 15.6], 9);

  function node(tag, text) {
    var n = document.createElement(tag);
    if (text !== undefined) { n.textContent = text; }
    return n;
  }
  function escaped(text) {
    var n = node("span", text);
    return n.innerHTML;
  }
  /* Google's encoded polyline format, precision 5: [[lat, lon], ...] */
  function decodePath(text) {
    var points = [], index = 0, lat = 0, lon = 0;
    function next() {
      var result = 0, shift = 0, byte;
      do {
        byte = text.charCodeAt(index++) - 63;
        result |= (byte & 0x1f) << shift;
        shift += 5;
      } while (byte >= 0x20);
      return result & 1 ? ~(result >> 1) : result >> 1;
    }
    while (index < text.length) {
      lat += next();
      lon += next();
      points.push([lat / 1e5, lon / 1e5]);
    }
    return points;
  }
  function stopPopup(vehicle, s) {
    var box = node("div");
    box.appendChild(node("b", vehicle.name + " #" + s.seq));
    box.appendChild(node("div", s.name));
    box.appendChild(node("div", s.arrival + "-" + s.departure));
    box.appendChild(node("div", "+" + s.board + " / -" + s.alight + " (" +
      (labels.on_board || "on board") + " " + s.on_board + ")"));
    if (s.codes.length) { box.appendChild(node("div", s.codes.join(", "))); }
    return box;
  }
  function unservedPopup(u) {
    var box = node("div");
    box.appendChild(node("b", u.code + " \u00d7" + u.seats));
    box.appendChild(node("div", u.from + " \u2192 " + u.to + " " + u.time));
    box.appendChild(node("div", u.reason));
    return box;
  }

  function draw(data) {
    var overlays = {};
    var groups = [];
    data.vehicles.forEach(function (v) {
      var group = L.featureGroup();
      var path = decodePath(v.path);
      if (path.length > 1) {
        L.polyline(path, { color: v.colour, weight: 4, opacity: 0.8 }).addTo(group);
      }
      v.stops.forEach(function (s) {
        L.circleMarker([s.lat, s.lon], {
          radius: s.board || s.alight ? 6 : 4, color: v.colour, weight: 2, fillOpacity: 0.9
        }).bindPopup(stopPopup(v, s)).bindTooltip(node("span", s.arrival + " " + s.name))
          .addTo(group);
      });
      group.addTo(map);
      groups.push(group);
      overlays[escaped(v.name + " (" + v.seats + ")")] = group;
    });
    if (data.unserved.length) {
      var left = L.featureGroup();
      data.unserved.forEach(function (u) {
        L.circleMarker([u.lat, u.lon], {
          radius: 8, color: "#b91c1c", weight: 3, fillColor: "#fff", fillOpacity: 1
        }).bindPopup(unservedPopup(u)).bindTooltip(node("span", u.code)).addTo(left);
      });
      left.addTo(map);
      overlays["\u2716 " + escaped(labels.unserved || "Unserved") + " (" + data.unserved.length + ")"] = left;
    }
    L.control.layers(null, overlays, { collapsed: true }).addTo(map);
    if (data.bounds) { map.fitBounds(data.bounds, { padding: [12, 12] }); }
    document.querySelectorAll(".tl[data-vehicle]").forEach(function (row) {
      var group = groups[Number(row.dataset.vehicle)];
      if (!group) { return; }
      row.addEventListener("click", function () {
        if (group.getLayers().length) { map.fitBounds(group.getBounds(), { padding: [20, 20] }); }
      });
    });
    el.dataset.ready = String(data.vehicles.length);
  }

  var embedded = document.getElementById("daymap-data");
  if (embedded) {
    draw(JSON.parse(embedded.textContent));
    return;
  }
  fetch(el.dataset.layers, { credentials: "same-origin" })
    .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
    .then(draw)
    .catch(function (err) { el.dataset.error = String(err); });
}());
