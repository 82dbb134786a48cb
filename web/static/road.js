/* The day page's "On the road" part: loaded at once, then every 30 seconds, without
   reloading the page (the link beside it opens the same as a page of its own). */
(function () {
  "use strict";
  var box = document.getElementById("road");
  if (!box || !window.fetch) { return; }
  function load() {
    fetch(box.dataset.refresh, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (html === null) { return; }
        var parsed = new DOMParser().parseFromString(html, "text/html");
        box.replaceChildren.apply(box, Array.prototype.slice.call(parsed.body.childNodes));
      }).catch(function () {});
  }
  load();
  setInterval(load, 30000);
})();
