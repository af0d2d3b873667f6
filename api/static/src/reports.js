// The report pages' charts (/reports): every `.report-chart` holds, in `data-chart`,
// the numbers of the table beside it ({type: "bar", categories, series, horizontal});
// ECharts draws them as SVG. Only the parts used are imported, to keep the bundle small.
import { BarChart } from "echarts/charts";
import { GridComponent, LegendComponent, TooltipComponent } from "echarts/components";
import * as echarts from "echarts/core";
import { SVGRenderer } from "echarts/renderers";

echarts.use([BarChart, GridComponent, LegendComponent, TooltipComponent, SVGRenderer]);

function option(spec) {
  const category = { type: "category", data: spec.categories, axisLabel: { interval: 0 } };
  const value = { type: "value", minInterval: 1 };
  return {
    tooltip: { trigger: "axis" },
    legend: { top: 0 },
    grid: { left: 8, right: 16, top: 32, bottom: 8, containLabel: true },
    xAxis: spec.horizontal ? value : category,
    yAxis: spec.horizontal ? { ...category, inverse: true } : value,
    series: spec.series.map((s) => ({ type: "bar", name: s.name, data: s.data })),
  };
}

for (const box of document.querySelectorAll(".report-chart[data-chart]")) {
  const spec = JSON.parse(box.dataset.chart);
  if (spec.horizontal) box.style.height = `${Math.max(280, 32 * spec.categories.length + 64)}px`;
  const chart = echarts.init(box, null, { renderer: "svg" });
  chart.setOption(option(spec));
  box.dataset.ready = "true";
  window.addEventListener("resize", () => chart.resize());
}
