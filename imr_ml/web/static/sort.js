// Sort a table.sortable by the clicked column (numbers by their data-v value); no framework.
document.addEventListener("click", function (ev) {
  var th = ev.target.closest("table.sortable th");
  if (!th) return;
  var table = th.closest("table"), col = th.cellIndex, num = th.dataset.type === "num";
  var asc = th.getAttribute("aria-sort") !== "ascending";
  table.querySelectorAll("th").forEach(function (h) { h.removeAttribute("aria-sort"); });
  th.setAttribute("aria-sort", asc ? "ascending" : "descending");
  var key = function (tr) {
    var td = tr.cells[col];
    return num ? parseFloat(td.dataset.v || "-1") : td.textContent.trim().toLowerCase();
  };
  var rows = Array.from(table.tBodies[0].rows);
  rows.sort(function (a, b) { var x = key(a), y = key(b); return (x < y ? -1 : x > y ? 1 : 0) * (asc ? 1 : -1); });
  rows.forEach(function (tr) { table.tBodies[0].appendChild(tr); });
});
