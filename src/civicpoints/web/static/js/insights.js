// The figures dashboard's charts: ECharts draws the page's JSON data island. Without script
// (or without ECharts) the tables beside each chart carry the same numbers; a count hidden
// for privacy is a gap in the chart, "<10" or "x" in the table.
(function () {
  "use strict";
  var island = document.getElementById("insights-data");
  if (!island || !window.echarts) { return; }
  var data = JSON.parse(island.textContent);
  if (!data.months) { return; }
  var palette = ["#a8071a", "#0b5394", "#1f5c2e", "#8a5a00", "#5b2a86", "#3d3d3d"];
  var font = { fontSize: 14, color: "#1a1a1a" };
  var grid = { left: 64, right: 24, top: 48, bottom: 40 };

  function bars(series, stackLast) {
    var names = Object.keys(series);
    return {
      color: palette, grid: grid, tooltip: { trigger: "axis" },
      legend: { top: 0, textStyle: font },
      xAxis: { type: "category", data: data.months, axisLabel: font },
      yAxis: { type: "value", axisLabel: font },
      series: names.map(function (name, i) {
        var line = stackLast && i === 0;
        return { name: name, type: line ? "line" : "bar", data: series[name], connectNulls: false };
      })
    };
  }
  var builders = {
    people: function () { return bars(data.participants, true); },
    points: function () { return bars(data.points, false); },
    category: function () {
      return {
        color: palette, tooltip: { trigger: "item" },
        legend: { bottom: 0, textStyle: font },
        series: [{ type: "pie", radius: ["35%", "65%"], data: data.by_category,
          label: { fontSize: 14, formatter: "{b}: {c}" } }]
      };
    }
  };
  var charts = [];
  document.querySelectorAll("[data-chart]").forEach(function (el) {
    var build = builders[el.getAttribute("data-chart")];
    if (!build) { return; }
    el.classList.add("drawn");
    var chart = window.echarts.init(el, null, { renderer: "svg" });
    chart.setOption(build());
    charts.push(chart);
  });
  window.addEventListener("resize", function () {
    charts.forEach(function (c) { c.resize(); });
  });
}());
