// Shows each time also in the visitor's own time zone when it differs from the clinic's.
(function () {
  "use strict";
  var root = document.querySelector("[data-clinic-zone]");
  if (!root || !window.Intl) { return; }
  var clinicZone = root.getAttribute("data-clinic-zone");
  var visitorZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (!visitorZone) { return; }
  var lang = document.documentElement.lang || "en";
  var fmt = function (zone) {
    return new Intl.DateTimeFormat(lang + "-CA", { hour: "numeric", minute: "2-digit", timeZone: zone });
  };
  var inClinic = fmt(clinicZone);
  var inVisitor = fmt(visitorZone);
  var differs = false;
  document.querySelectorAll("[data-utc]").forEach(function (el) {
    var moment = new Date(el.getAttribute("data-utc"));
    var mine = inVisitor.format(moment);
    if (mine !== inClinic.format(moment)) {
      differs = true;
      var target = el.querySelector(".visitor-time");
      if (target) { target.textContent = "(" + mine + ")"; }
    }
  });
  if (differs) {
    var note = document.getElementById("zone-note");
    if (note) {
      note.querySelector(".visitor-zone").textContent = visitorZone.replace(/_/g, " ");
      note.hidden = false;
    }
  }
})();
