/* plancheck workbench: the little that needs a script. Every page works without it.
   - Print buttons print; forms that change the models ask first.
   - Served pages: a filter form submits itself when a choice changes.
   - A written summary (plancheck summary -o FILE.html, no server behind it): the filter form and
     the column headings sort and filter the matrix in the page itself. */
(function () {
  "use strict";
  Array.prototype.forEach.call(document.querySelectorAll("[data-print]"), function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
  Array.prototype.forEach.call(document.querySelectorAll("form[data-confirm]"), function (f) {
    f.addEventListener("submit", function (e) { if (!window.confirm(f.getAttribute("data-confirm"))) { e.preventDefault(); } });
  });
  var form = document.querySelector("form.filters");
  var standalone = document.body.hasAttribute("data-standalone");
  if (form && !standalone) {
    form.addEventListener("change", function () { form.submit(); });
    return;
  }
  if (!form || !standalone) { return; }
  var table = document.querySelector("table.matrix");
  var body = table.tBodies[0];
  function choice(name) { var el = form.elements[name]; return el ? el.value : ""; }
  function apply() {
    var area = choice("area"), verdict = choice("verdict"), state = choice("state");
    Array.prototype.forEach.call(table.querySelectorAll("[data-area]"), function (cell) {
      cell.hidden = !!area && cell.getAttribute("data-area") !== area;
    });
    Array.prototype.forEach.call(body.rows, function (row) {
      var ok = !verdict || row.getAttribute("data-verdict") === verdict;
      if (ok && state) {
        ok = Array.prototype.some.call(row.querySelectorAll("td[data-area]"), function (cell) {
          return !cell.hidden && cell.getAttribute("data-state") === state;
        });
      }
      row.hidden = !ok;
    });
    var shown = Array.prototype.filter.call(body.rows, function (r) { return !r.hidden; }).length;
    var count = document.getElementById("shown-count");
    if (count) { count.textContent = String(shown); }
    var sort = choice("sort"), dir = choice("dir");
    if (sort) { sortBy(sort, dir === "desc"); }
  }
  function sortBy(key, desc) {
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = a.getAttribute("data-sort-" + key), y = b.getAttribute("data-sort-" + key);
      var nx = parseFloat(x), ny = parseFloat(y);
      var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : String(x).localeCompare(String(y));
      if (desc) { c = -c; }
      if (c === 0) { c = String(a.getAttribute("data-sort-force")).localeCompare(String(b.getAttribute("data-sort-force"))); }
      return c;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  }
  form.addEventListener("submit", function (e) { e.preventDefault(); apply(); });
  form.addEventListener("change", apply);
  Array.prototype.forEach.call(table.querySelectorAll("th a[data-sort]"), function (link) {
    link.addEventListener("click", function (e) {
      e.preventDefault();
      var key = link.getAttribute("data-sort");
      var dir = form.elements.dir;
      var desc = form.elements.sort.value === key && dir.value !== "desc";
      form.elements.sort.value = key;
      dir.value = desc ? "desc" : "asc";
      apply();
    });
  });
  apply();
}());
