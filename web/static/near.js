// Progressive enhancement: sort the pickup stops and the destinations by distance
// from the phone's position. The position never leaves the phone.
(function () {
  var button = document.getElementById("near");
  var selects = ["from_stop", "to_stop"].map(function (id) { return document.getElementById(id); });
  if (!button || !selects[0] || !navigator.geolocation) { return; }
  button.parentNode.style.display = "block";
  button.addEventListener("click", function () {
    navigator.geolocation.getCurrentPosition(function (pos) {
      var lat = pos.coords.latitude, lon = pos.coords.longitude;
      var k = Math.cos(lat * Math.PI / 180);
      selects.forEach(function (select) {
        if (!select) { return; }
        var options = Array.prototype.slice.call(select.options);
        options.sort(function (a, b) {
          var da = Math.hypot(a.dataset.lat - lat, (a.dataset.lon - lon) * k);
          var db = Math.hypot(b.dataset.lat - lat, (b.dataset.lon - lon) * k);
          return da - db;
        });
        options.forEach(function (o) { select.appendChild(o); });
        select.selectedIndex = 0;
      });
    });
  });
})();
