// The admin overview's charts: ECharts draws the figures of the page's JSON data island.
// Without script (or without ECharts) the tables under each chart carry the same numbers.
(function () {
  "use strict";
  var island = document.getElementById("dashboard-data");
  if (!island || !window.echarts) { return; }
  var data = JSON.parse(island.textContent);
  var palette = ["#a8071a", "#0b5394", "#1f5c2e", "#8a5a00", "#5b2a86", "#3d3d3d"];
  var font = { fontSize: 14, color: "#1a1a1a" };
  var grid = { left: 64, right: 24, top: 48, bottom: 40 };

  function axis(labels) {
    return { type: "category", data: labels, axisLabel: font };
  }
  function values() { return { type: "value", axisLabel: font }; }

  function points() {
    var names = Object.keys(data.points);
    return {
      color: palette, grid: grid, tooltip: { trigger: "axis" },
      legend: { top: 0, textStyle: font },
      xAxis: axis(data.months), yAxis: values(),
      series: names.map(function (name, i) {
        var line = i === names.length - 1;
        return { name: name, type: line ? "line" : "bar", data: data.points[name] };
      })
    };
  }
  function hours() {
    return {
      color: ["#0b5394"], grid: grid, tooltip: { trigger: "axis" },
      xAxis: axis(data.months), yAxis: values(),
      series: [{ name: data.hours.name, type: "bar", data: data.hours.values }]
    };
  }
  function category() {
    return {
      color: palette, tooltip: { trigger: "item" },
      legend: { bottom: 0, textStyle: font },
      series: [{ type: "pie", radius: ["35%", "65%"], data: data.by_category,
        label: { fontSize: 14, formatter: "{b}: {c}" } }]
    };
  }
  function street() {
    return {
      color: ["#a8071a"], grid: { left: 120, right: 24, top: 16, bottom: 32 },
      tooltip: { trigger: "axis" },
      xAxis: values(), yAxis: axis(data.by_street.labels),
      series: [{ name: data.by_street.name, type: "bar", data: data.by_street.values }]
    };
  }

  var builders = { points: points, hours: hours, category: category, street: street };
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
