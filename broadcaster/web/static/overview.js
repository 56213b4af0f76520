/* Tổng quan: refresh the on-air block every few seconds (the page shows the same block without it). */
(function () {
  "use strict";
  var box = document.getElementById("dang-phat");
  if (!box || !window.fetch || !window.JSON) { return; }
  var url = box.getAttribute("data-refresh");
  var every = parseInt(box.getAttribute("data-every"), 10) || 5000;
  function tick() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); })
      .then(function (j) { box.innerHTML = j.html; box.setAttribute("data-state", j.state); })
      .catch(function () { /* keep the last state shown; the next tick tries again */ })
      .then(function () { window.setTimeout(tick, every); });
  }
  window.setTimeout(tick, every);
})();
