// Live total of the budget lines against the fund year's available money and small-group room.
// Plain script, no inline code (the Content-Security-Policy allows only same-origin scripts).
(function () {
  var glance = document.querySelector(".fund-glance");
  var out = document.getElementById("budget-total");
  if (!glance || !out) return;
  var available = parseFloat(glance.dataset.available);
  var smallRoom = parseFloat(glance.dataset.smallRoom);
  var form = out.closest("main").querySelector("form");

  function fen(text) {
    var m = /^\s*(\d+)(?:\.(\d{1,2}))?\s*$/.exec(String(text).replace(/[,，]/g, ""));
    return m ? parseInt(m[1], 10) * 100 + parseInt(((m[2] || "") + "00").slice(0, 2), 10) : null;
  }
  function update() {
    var total = 0, ok = true;
    form.querySelectorAll('input[name$="-amount"]').forEach(function (input) {
      var row = input.closest(".line-row");
      if (!input.value.trim() || (row && row.hidden)) return;  // a line removed on the page (budget_lines.js)
      var v = fen(input.value);
      if (v === null) ok = false; else total += v;
    });
    var small = form.querySelector('input[name="beneficiaries"][value="small_group"]');
    var limit = small && small.checked ? Math.min(available, smallRoom) : available;
    out.textContent = ok ? "¥" + (total / 100).toLocaleString("zh-CN", {minimumFractionDigits: 2}) : "?";
    out.classList.toggle("over", !ok || total / 100 > limit);
  }
  form.addEventListener("input", update);
  form.addEventListener("change", update);
  update();
})();
