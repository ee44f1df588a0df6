// The residents' "large text" switch (issue 16). Loaded in <head> without defer, so that a reader's choice
// is on <html> before the body is laid out: the page never flashes at the small size first. The choice is
// kept in this browser (localStorage), never sent to the server, so cached pages stay the same for all.
(function () {
  var KEY = "fund.largeText";
  var root = document.documentElement;

  function stored() {
    try { return window.localStorage.getItem(KEY) === "1"; } catch (e) { return false; }
  }

  function store(on) {
    try { window.localStorage.setItem(KEY, on ? "1" : "0"); } catch (e) { /* private mode: this page only */ }
  }

  if (stored()) root.classList.add("large-text");

  document.addEventListener("DOMContentLoaded", function () {
    var buttons = document.querySelectorAll("[data-large-text]");
    Array.prototype.forEach.call(buttons, function (button) {
      button.hidden = false;  // without JavaScript the switch could do nothing, so it is not shown
      button.setAttribute("aria-pressed", root.classList.contains("large-text") ? "true" : "false");
      button.addEventListener("click", function () {
        var on = root.classList.toggle("large-text");
        store(on);
        Array.prototype.forEach.call(buttons, function (b) { b.setAttribute("aria-pressed", on ? "true" : "false"); });
      });
    });
  });
})();
