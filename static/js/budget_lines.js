// Budget lines added and removed on the page. Without this script the form still works: "增加一行" submits
// and the page comes back with one more line; "删除此行" is a box ticked and applied on saving.
// Same-origin, no inline code (the Content-Security-Policy allows only scripts from this site).
(function () {
  var box = document.querySelector("fieldset[data-lines]");
  var template = document.getElementById("line-template");
  if (!box || !template) return;
  var prefix = box.dataset.lines;
  var max = parseInt(box.dataset.max, 10) || 50;
  var total = box.querySelector('input[name="' + prefix + '-TOTAL_FORMS"]');
  var rows = box.querySelector(".line-rows");
  var add = box.querySelector("[data-add-line]");

  function visibleRows() {
    return Array.prototype.filter.call(rows.querySelectorAll(".line-row"), function (row) { return !row.hidden; });
  }
  function refresh() {
    var count = parseInt(total.value, 10);
    add.disabled = count >= max;
    // The last line left cannot be removed (a plan has at least one line).
    var shown = visibleRows();
    shown.forEach(function (row) {
      var button = row.querySelector(".remove-line");
      if (button) button.disabled = shown.length <= 1;
    });
  }
  function enhance(row) {
    var del = row.querySelector('input[type="checkbox"][name$="-DELETE"]');
    if (!del || row.querySelector(".remove-line")) return;
    del.closest(".field").hidden = true;
    var button = document.createElement("button");
    button.type = "button";
    button.className = "btn remove-line";
    button.textContent = box.dataset.removeLabel || del.closest("label").textContent.trim();
    button.addEventListener("click", function () {
      del.checked = true;
      row.hidden = true;
      row.dispatchEvent(new Event("input", {bubbles: true}));  // the live total (budget.js) follows
      refresh();
      var next = visibleRows()[0];
      if (next) next.querySelector("input").focus();
    });
    row.appendChild(button);
  }
  add.addEventListener("click", function (event) {
    event.preventDefault();
    var index = parseInt(total.value, 10);
    if (index >= max) return;
    var html = template.innerHTML.replace(/__prefix__/g, String(index));
    var holder = document.createElement("div");
    holder.innerHTML = html;
    var row = holder.firstElementChild;
    rows.appendChild(row);
    total.value = String(index + 1);
    enhance(row);
    refresh();
    row.querySelector("input").focus();
  });
  rows.querySelectorAll(".line-row").forEach(function (row) {
    var del = row.querySelector('input[type="checkbox"][name$="-DELETE"]');
    if (del && del.checked) row.hidden = true;  // removed before a refused save: stays removed
    enhance(row);
  });
  refresh();
})();
