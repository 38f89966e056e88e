/* KeyCare front-end glue: ECharts charts from json_script data, re-run after HTMX swaps. */
(function () {
  "use strict";
  var ROLE_COLOURS = {
    decision_maker: "#d63939", coach: "#2fb344", influencer: "#f76707",
    technical_evaluator: "#ae3ec9", gatekeeper: "#667382", user: "#4299e1",
    unknown: "#9aa0ac", colleague: "#206bc4"
  };

  function esc(value) {
    // text (an account's or contact's name) going into a tooltip, which ECharts shows as HTML
    return echarts.format.encodeHTML(value === undefined || value === null ? "" : String(value));
  }

  function data(el) {
    var source = el.dataset.source ? document.getElementById(el.dataset.source) : null;
    source = source || document.getElementById(el.dataset.testid + "-data") ||
      el.parentElement.querySelector("script[type='application/json']");
    return source ? JSON.parse(source.textContent) : null;
  }

  var builders = {
    bar: function (d) {
      return {
        tooltip: { trigger: "axis" },
        grid: { left: 40, right: 16, top: 16, bottom: 60 },
        xAxis: { type: "category", data: d.labels, axisLabel: { rotate: 30 } },
        yAxis: { type: "value", minInterval: 1 },
        series: [{ type: "bar", data: d.values, itemStyle: { color: "#206bc4" } }]
      };
    },
    line: function (d) {
      return {
        tooltip: { trigger: "axis" },
        grid: { left: 40, right: 16, top: 16, bottom: 40 },
        xAxis: { type: "category", data: d.labels },
        yAxis: { type: "value", min: d.min === undefined ? 0 : d.min, max: d.max === undefined ? 100 : d.max },
        series: [{ name: d.name, type: "line", data: d.values, smooth: true, connectNulls: true, itemStyle: { color: "#2fb344" } }]
      };
    },
    trend: function (d) {
      // several lines over periods: shares in % on the left axis, series with axis 1 (HHI) on the right
      var colours = ["#d63939", "#f76707", "#206bc4", "#667382"];
      return {
        tooltip: { trigger: "axis" },
        legend: { top: 0 },
        grid: { left: 40, right: 56, top: 36, bottom: 40 },
        xAxis: { type: "category", data: d.labels },
        yAxis: [{ type: "value", min: 0, max: 100 }, { type: "value", min: 0, max: 10000, splitLine: { show: false } }],
        series: d.series.map(function (s, i) {
          return { name: s.name, type: "line", data: s.values, yAxisIndex: s.axis || 0, connectNulls: true, itemStyle: { color: colours[i % colours.length] } };
        })
      };
    },
    scatter: function (d) {
      // volume vs profit: revenue on x, contribution on y; flagged points in red
      return {
        tooltip: { formatter: function (p) { return esc(p.data[2]) + "<br>" + esc(d.x_label) + ": " + esc(p.data[0].toLocaleString()) + "<br>" + esc(d.y_label) + ": " + esc(p.data[1].toLocaleString()); } },
        grid: { left: 80, right: 24, top: 24, bottom: 50 },
        xAxis: { type: "value", name: d.x_label, nameLocation: "middle", nameGap: 30 },
        yAxis: { type: "value", name: d.y_label },
        series: [
          { type: "scatter", data: d.points, itemStyle: { color: "#206bc4" }, symbolSize: 9 },
          { type: "scatter", data: d.flagged, itemStyle: { color: "#d63939" }, symbolSize: 11 }
        ]
      };
    },
    whale: function (d) {
      // the whale curve: cumulative contribution over the ranked accounts, its peak marked,
      // the 100% line where the curve ends (shares only when the total is positive); the
      // points start at the origin and d.links holds one entry (null there) per point
      var line = { type: "line", data: d.points, showSymbol: false, smooth: false, itemStyle: { color: "#206bc4" },
        areaStyle: { opacity: 0.08 },
        markPoint: { symbol: "pin", data: [{ name: d.peak_label, coord: d.peak, value: d.peak[1] + (d.percent ? "%" : "") }] } };
      if (d.percent) {
        line.markLine = { symbol: "none", lineStyle: { type: "dashed", color: "#d63939" },
          label: { position: "insideEndTop", formatter: function () { return d.hundred_label; } }, data: [{ yAxis: 100 }] };
      }
      return {
        tooltip: { trigger: "axis", formatter: function (ps) { var p = ps[0].data; if (!p[0]) { return ""; } return "#" + esc(p[0]) + " " + esc(p[2]) + "<br>" + esc(d.y_label) + ": " + esc(Number(p[1]).toLocaleString()); } },
        grid: { left: 70, right: 24, top: 36, bottom: 50 },
        xAxis: { type: "value", name: d.x_label, nameLocation: "middle", nameGap: 30, min: 0, minInterval: 1 },
        yAxis: { type: "value", name: d.y_label },
        series: [line]
      };
    },
    revenue: function (d) {
      return {
        tooltip: { trigger: "axis" },
        legend: { top: 0, data: [d.revenue_label, d.profit_label] },
        grid: { left: 70, right: 16, top: 36, bottom: 50 },
        xAxis: { type: "category", data: d.labels, axisLabel: { rotate: 30 } },
        yAxis: { type: "value" },
        series: [
          { name: d.revenue_label, type: "bar", data: d.revenue, itemStyle: { color: "#206bc4" } },
          { name: d.profit_label, type: "line", data: d.profit, smooth: true, itemStyle: { color: "#2fb344" } }
        ]
      };
    },
    graph: function (d) {
      // the coach paths to the decision makers not met: their nodes and edges (either way)
      var onPath = {}, pathEdges = {};
      (d.paths || []).forEach(function (path) {
        path.forEach(function (id, i) {
          onPath[id] = true;
          if (i > 0) { pathEdges[[path[i - 1], id].sort().join("|")] = true; }
        });
      });
      var nodes = d.nodes.map(function (n) {
        var key = ROLE_COLOURS[n.role] ? n.role : "unknown";
        var style = { color: ROLE_COLOURS[key], opacity: n.active ? 1 : 0.4 };
        if (onPath[n.id]) { style.borderColor = "#f76707"; style.borderWidth = 3; }
        return {
          id: n.id, name: n.name, value: n.title,
          symbolSize: 18 + 6 * (n.influence || 3),
          itemStyle: style,
          // functions, not string templates: a name is text ("{b}" in it is no placeholder)
          label: { show: true, formatter: function () { return n.name + (n.role_label ? "\n" + n.role_label : ""); } },
          tooltip: { formatter: function () { return esc(n.name + (n.title ? " · " + n.title : "") + (n.active ? "" : " · " + d.labels.left)); } }
        };
      });
      var links = d.links.map(function (l) {
        var introduced = l.kind === "introduced";
        var path = pathEdges[[l.source, l.target].sort().join("|")];
        return {
          source: l.source, target: l.target,
          lineStyle: { type: introduced ? "dashed" : "solid", color: path ? "#f76707" : (introduced ? "#2fb344" : "#667382"), width: path ? 4 : 1.5 },
          label: { show: false, formatter: function () { return introduced ? d.labels.introduced : d.labels.reports_to; } }
        };
      });
      return {
        tooltip: {},
        series: [{
          type: "graph", layout: "force", roam: true, draggable: true,
          force: { repulsion: 260, edgeLength: 110 },
          edgeSymbol: ["none", "arrow"], edgeSymbolSize: 8,
          data: nodes, links: links
        }]
      };
    }
  };

  function renderCharts(root) {
    if (!window.echarts) { return; }
    root.querySelectorAll(".kc-chart[data-chart]").forEach(function (el) {
      var build = builders[el.dataset.chart];
      var d = data(el);
      if (!build || !d) { return; }
      var chart = echarts.getInstanceByDom(el) || echarts.init(el);
      chart.setOption(build(d));
      if (d.links) {
        // drill-down: d.links holds a URL per data item (one list per series for several)
        chart.off("click");
        chart.on("click", function (p) {
          if (p.componentType !== "series") { return; }  // a mark (the peak pin), not a point
          var links = Array.isArray(d.links[0]) ? d.links[p.seriesIndex] : d.links;
          var url = links && links[p.dataIndex];
          if (typeof url === "string" && url) { window.location.href = url; }
        });
      }
      el.dataset.rendered = "true";
      window.addEventListener("resize", function () { chart.resize(); });
    });
  }
  function showKindFields(root) {
    // the concession form: show the fields of the chosen kind only ([data-kinds] lists them)
    root.querySelectorAll("select[data-kind-select]").forEach(function (select) {
      var form = select.form;
      form.querySelectorAll("[data-kinds]").forEach(function (el) {
        el.hidden = el.dataset.kinds.split(" ").indexOf(select.value) < 0;
        // a hidden kind's inputs are not sent (nor checked by the browser)
        el.querySelectorAll("input, select, textarea").forEach(function (input) { input.disabled = el.hidden; });
      });
    });
  }
  document.addEventListener("change", function (evt) {
    if (evt.target.matches && evt.target.matches("select[data-kind-select]")) { showKindFields(evt.target.form); }
  });
  document.addEventListener("DOMContentLoaded", function () { showKindFields(document); });
  document.addEventListener("htmx:afterSwap", function () { showKindFields(document); });
  document.addEventListener("DOMContentLoaded", function () { renderCharts(document); });
  document.addEventListener("htmx:afterSwap", function (evt) { renderCharts(evt.detail.target); });
})();
