/* KeyCare front-end glue: charts from json_script data, re-run after HTMX swaps. */
(function () {
  "use strict";
  function renderCharts(root) {
    if (!window.echarts) { return; }
    root.querySelectorAll(".kc-chart[data-chart='bar']").forEach(function (el) {
      var dataEl = document.getElementById(el.dataset.testid + "-data") ||
        el.parentElement.querySelector("script[type='application/json']");
      if (!dataEl) { return; }
      var data = JSON.parse(dataEl.textContent);
      var chart = echarts.getInstanceByDom(el) || echarts.init(el);
      chart.setOption({
        tooltip: { trigger: "axis" },
        grid: { left: 40, right: 16, top: 16, bottom: 60 },
        xAxis: { type: "category", data: data.labels, axisLabel: { rotate: 30 } },
        yAxis: { type: "value", minInterval: 1 },
        series: [{ type: "bar", data: data.values, itemStyle: { color: "#206bc4" } }]
      });
      window.addEventListener("resize", function () { chart.resize(); });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { renderCharts(document); });
  document.addEventListener("htmx:afterSwap", function (evt) { renderCharts(evt.detail.target); });
})();
