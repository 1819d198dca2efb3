// The room board's small behaviours. CSP allows no inline script and htmx's
// hx-on needs eval, so they live here: focus follows the panel htmx fills,
// the booking form shows the fields of the kind chosen, the panel closes
// (Escape or its button) back to where the person was, and the print button.
(function () {
  "use strict";
  var lastTrigger = null;

  function panel() { return document.getElementById("board-panel"); }

  // Only the fields the chosen kind uses are shown (the server ignores the others).
  function syncKind(root) {
    (root || document).querySelectorAll("form[data-booking-form]").forEach(function (form) {
      var kind = form.querySelector("[name=kind]");
      if (!kind) { return; }
      form.querySelectorAll("[data-kinds]").forEach(function (field) {
        field.hidden = field.getAttribute("data-kinds").split(" ").indexOf(kind.value) === -1;
      });
    });
  }

  function closePanel() {
    var box = panel();
    if (!box || !box.firstElementChild) { return; }
    box.innerHTML = "";
    if (lastTrigger && document.body.contains(lastTrigger)) { lastTrigger.focus(); }
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var source = event.detail.elt;
    if (source && source.closest && source.closest("#board, .board-week") && source.matches("a")) {
      lastTrigger = source;
    }
  });

  // A signed-out session (idle too long) answers a panel's request with the
  // sign-in page: go there whole, rather than inside the panel.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var reached = event.detail.xhr && event.detail.xhr.responseURL;
    if (reached && reached.indexOf("/accounts/login/") !== -1) {
      event.detail.shouldSwap = false;
      window.location.assign(reached);
    }
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    syncKind(target);
    if (target && target.id === "board-panel") {
      var heading = target.querySelector("[data-focus]");
      if (heading) { heading.focus(); }
    }
  });

  document.addEventListener("change", function (event) {
    if (event.target && event.target.name === "kind" && event.target.form) { syncKind(event.target.form.parentNode); }
  });

  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-print]")) { window.print(); }
    if (event.target.closest("[data-close-panel]")) { event.preventDefault(); closePanel(); }
  });

  document.addEventListener("keydown", function (event) {
    var box = panel();
    if (event.key === "Escape" && box && box.contains(document.activeElement)) { closePanel(); }
  });

  document.querySelectorAll("[data-print]").forEach(function (button) { button.hidden = false; });
  syncKind(document);
})();
