/* Sortable, paged, filterable tables (no library): every <table data-sortable>.
 * A header click sorts by the cells' data-sort (numbers when every value is one);
 * tables longer than data-page-size get a filter box and a pager. */
(function () {
  "use strict";
  var zh = (document.documentElement.lang || "").indexOf("zh") === 0;
  var T = zh ? { prev: "上一页", next: "下一页", all: "全部", page: "第 {p} / {n} 页，共 {r} 行",
                 filter: "筛选…" }
             : { prev: "Previous", next: "Next", all: "All", page: "page {p} of {n}, {r} rows",
                 filter: "Filter…" };

  function setup(table) {
    var body = table.tBodies[0];
    if (!body) return;
    var rows = Array.prototype.slice.call(body.rows);
    var size = parseInt(table.getAttribute("data-page-size") || "20", 10);
    var state = { page: 0, shown: rows, all: false, col: -1, asc: true };
    var bar = null, info = null, prev = null, next = null;

    function draw() {
      var n = Math.max(1, Math.ceil(state.shown.length / size));
      if (state.page >= n) state.page = n - 1;
      var lo = state.all ? 0 : state.page * size, hi = state.all ? state.shown.length : lo + size;
      var keep = new Set(state.shown.slice(lo, hi));
      rows.forEach(function (r) { r.hidden = !keep.has(r); });
      state.shown.forEach(function (r) { body.appendChild(r); });
      if (info) {
        info.textContent = T.page.replace("{p}", state.all ? 1 : state.page + 1)
          .replace("{n}", state.all ? 1 : n).replace("{r}", state.shown.length);
        prev.disabled = state.all || state.page === 0;
        next.disabled = state.all || state.page >= n - 1;
      }
    }

    function sortBy(index, th) {
      state.asc = state.col === index ? !state.asc : true;
      state.col = index;
      var values = state.shown.map(function (r) {
        return r.cells[index] ? r.cells[index].getAttribute("data-sort") || "" : "";
      });
      var numeric = values.every(function (v) { return v === "" || !isNaN(parseFloat(v)); });
      var order = state.shown.map(function (r, i) { return [values[i], r]; });
      order.sort(function (a, b) {
        var x = a[0], y = b[0];
        if (x === "" && y !== "") return 1;
        if (y === "" && x !== "") return -1;
        var c = numeric ? parseFloat(x) - parseFloat(y) : x.localeCompare(y, zh ? "zh-CN" : "en");
        return state.asc ? c : -c;
      });
      state.shown = order.map(function (p) { return p[1]; });
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (h) {
        h.removeAttribute("aria-sort");
      });
      th.setAttribute("aria-sort", state.asc ? "ascending" : "descending");
      state.page = 0;
      draw();
    }

    if (table.tHead) {
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, i) {
        th.classList.add("sortable");
        th.tabIndex = 0;
        th.addEventListener("click", function () { sortBy(i, th); });
        th.addEventListener("keydown", function (e) {
          if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sortBy(i, th); }
        });
      });
    }

    if (rows.length > size) {
      bar = document.createElement("div");
      bar.className = "pager";
      var filter = document.createElement("input");
      filter.type = "search";
      filter.placeholder = T.filter;
      filter.className = "filter";
      filter.addEventListener("input", function () {
        var q = filter.value.trim().toLowerCase();
        var base = rows.slice();
        if (state.col >= 0) {  // keep the chosen order
          var pos = new Map(state.shown.map(function (r, i) { return [r, i]; }));
          base.sort(function (a, b) {
            return (pos.has(a) ? pos.get(a) : 1e9) - (pos.has(b) ? pos.get(b) : 1e9);
          });
        }
        state.shown = q ? base.filter(function (r) {
          return r.textContent.toLowerCase().indexOf(q) >= 0;
        }) : base;
        state.page = 0;
        draw();
      });
      prev = document.createElement("button");
      prev.type = "button"; prev.textContent = T.prev; prev.className = "prev";
      prev.addEventListener("click", function () { state.page -= 1; draw(); });
      next = document.createElement("button");
      next.type = "button"; next.textContent = T.next; next.className = "next";
      next.addEventListener("click", function () { state.page += 1; draw(); });
      var all = document.createElement("button");
      all.type = "button"; all.textContent = T.all; all.className = "all";
      all.addEventListener("click", function () { state.all = !state.all; draw(); });
      info = document.createElement("span");
      info.className = "pageinfo";
      [filter, prev, info, next, all].forEach(function (e) { bar.appendChild(e); });
      var wrap = table.parentNode.classList.contains("table-wrap") ? table.parentNode : table;
      wrap.parentNode.insertBefore(bar, wrap.nextSibling);
    }
    draw();
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("table[data-sortable]"), setup);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
