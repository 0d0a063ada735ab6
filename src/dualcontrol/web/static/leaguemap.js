/* The leagues' map on the overview: ECharts (static/vendor) over the boundaries shipped in
 * static/geo/neimenggu.json, each league coloured by its rating (data from the page). */
(function () {
  "use strict";
  function draw() {
    var el = document.getElementById("leaguemap");
    var source = document.getElementById("leaguemap-data");
    if (!el || !source || typeof echarts === "undefined") return;
    var data = JSON.parse(source.textContent);
    var indicator = el.getAttribute("data-indicator");
    fetch(el.getAttribute("data-geo"), { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (geo) {
        echarts.registerMap("neimenggu", geo);
        var names = geo.features.map(function (f) { return f.properties.name; });
        var chart = echarts.init(el, null, { renderer: "svg" });
        chart.setOption({
          tooltip: { trigger: "item", confine: true, formatter: function (p) {
            return p.data ? p.data.text : p.name; } },
          series: [{
            type: "map", map: "neimenggu", roam: false, selectedMode: false,
            label: { show: true, fontSize: 11, color: "#1d2630", formatter: function (p) {
              return p.data && p.data.label ? p.data.label : p.name; } },
            itemStyle: { borderColor: "#ffffff", borderWidth: 1, areaColor: "#cfd6dc" },
            emphasis: { label: { show: true }, itemStyle: { borderColor: "#0b2e4f",
                                                             borderWidth: 2 } },
            data: data
          }]
        });
        chart.on("click", function (p) {
          if (p.data && p.data.rating !== "withheld") {
            window.location.href = "/why/" + p.data.code + "/" + indicator;
          }
        });
        window.addEventListener("resize", function () { chart.resize(); });
        // for the tests: which of the page's leagues the map file has, and their colours
        el.setAttribute("data-matched", JSON.stringify(data.filter(function (d) {
          return names.indexOf(d.name) >= 0; }).map(function (d) {
          return [d.code, d.rating, d.itemStyle.areaColor]; })));
        el.setAttribute("data-drawn", "true");
      });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
