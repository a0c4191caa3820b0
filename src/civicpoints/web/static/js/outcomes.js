// The outcome indicators' chart: the chosen indicator (left axis) and the platform's
// participants (right axis) by month, the month the region joined the scheme marked. Without
// script (or without ECharts) the table beside it carries the same numbers.
(function () {
  "use strict";
  var island = document.getElementById("outcomes-data");
  var el = document.getElementById("chart-outcomes");
  if (!island || !el || !window.echarts) { return; }
  var data = JSON.parse(island.textContent);
  if (!data.months) { return; }
  var font = { fontSize: 14, color: "#1a1a1a" };
  var mark = data.joined ? {
    symbol: "none", lineStyle: { color: "#a8071a", type: "dashed", width: 2 },
    label: { formatter: data.joined_label, fontSize: 14, color: "#a8071a" },
    data: [{ xAxis: data.joined }]
  } : undefined;
  el.classList.add("drawn");
  var chart = window.echarts.init(el, null, { renderer: "svg" });
  chart.setOption({
    color: ["#0b5394", "#1f5c2e"], tooltip: { trigger: "axis" },
    grid: { left: 64, right: 64, top: 56, bottom: 40 },
    legend: { top: 0, textStyle: font },
    xAxis: { type: "category", data: data.months, axisLabel: font },
    yAxis: [{ type: "value", axisLabel: font }, { type: "value", axisLabel: font }],
    series: [
      { name: data.indicator.name, type: "line", data: data.indicator.data, connectNulls: false,
        markLine: mark },
      { name: data.platform.name, type: "bar", yAxisIndex: 1, data: data.platform.data,
        itemStyle: { opacity: 0.5 } }
    ]
  });
  window.addEventListener("resize", function () { chart.resize(); });
}());
