// The policy simulator's chart: points issued by month, current rules against the proposal,
// drawn from the result's JSON island. Without script the table under it carries the numbers.
// Drawn again whenever htmx swaps a new result in.
(function () {
  "use strict";
  var font = { fontSize: 14, color: "#1a1a1a" };
  var chart = null;
  function draw() {
    var island = document.getElementById("simulator-data");
    var el = document.getElementById("chart-simulation");
    if (!island || !el || !window.echarts) { return; }
    var data = JSON.parse(island.textContent);
    if (!data.months) { return; }
    if (chart) { chart.dispose(); }
    el.classList.add("drawn");
    chart = window.echarts.init(el, null, { renderer: "svg" });
    var names = Object.keys(data.series);
    chart.setOption({
      color: ["#0b5394", "#a8071a"],
      grid: { left: 72, right: 24, top: 48, bottom: 40 },
      tooltip: { trigger: "axis" },
      legend: { top: 0, textStyle: font },
      xAxis: { type: "category", data: data.months, axisLabel: font },
      yAxis: { type: "value", axisLabel: font },
      series: names.map(function (name, i) {
        return { name: name, type: i === 0 ? "bar" : "line", data: data.series[name],
          symbolSize: 8, lineStyle: { width: 3 } };
      })
    });
  }
  document.addEventListener("DOMContentLoaded", draw);
  document.body && document.body.addEventListener("htmx:afterSettle", draw);
  window.addEventListener("resize", function () { if (chart) { chart.resize(); } });
}());
