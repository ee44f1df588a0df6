// Pages that follow a live run (the batches) reload themselves every few seconds while it runs: an element
// with data-live-refresh="<seconds>" asks for it. Not while the tab is hidden, nor while the reader has a
// details element open or is typing in a form; the server stops asking once the run is over.
(function () {
  var el = document.querySelector("[data-live-refresh]");
  if (!el) return;
  var seconds = Math.max(3, parseInt(el.getAttribute("data-live-refresh"), 10) || 10);
  function busy() {
    var active = document.activeElement;
    return document.hidden || document.querySelector("details[open]") ||
      (active && active.form && active.type !== "submit");
  }
  function tick() {
    if (busy()) { setTimeout(tick, seconds * 1000); return; }
    window.location.reload();
  }
  setTimeout(tick, seconds * 1000);
})();
