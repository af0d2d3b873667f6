// Draw the case's BPMN diagram with the bpmn-js navigated viewer (served by flowdesk
// from npm): drag to move, Ctrl + wheel to zoom, the zoom buttons of the page; mark
// every element and sequence flow the case passed, its open and its breached tasks.
// It opens at a legible scale on the open task (or where the case went last), and
// keeps the current scale in `data-scale` of the container.
(async function () {
  const LEGIBLE = 0.85; // labels of 12 px stay readable at 1366×768
  const MIN = 0.2;
  const MAX = 3;
  const STEP = 1.25;
  const container = document.getElementById("diagram");
  const data = JSON.parse(document.getElementById("case-diagram").textContent);
  if (!window.BpmnJS || !data.xml) {
    container.dataset.ready = "unavailable";
    return;
  }
  const viewer = new window.BpmnJS({ container });
  try {
    await viewer.importXML(data.xml);
  } catch (err) {
    container.textContent = String(err && err.message ? err.message : err);
    container.dataset.ready = "error";
    return;
  }
  const canvas = viewer.get("canvas");
  const registry = viewer.get("elementRegistry");
  const eventBus = viewer.get("eventBus");

  const mark = (ids, marker) => {
    for (const id of ids || []) {
      if (registry.get(id)) canvas.addMarker(id, marker);
    }
  };
  mark(data.done, "fd-done");
  mark(data.flows, "fd-done");
  mark(data.open, "fd-open");
  mark(data.breached, "fd-breached");

  const showScale = () => {
    container.dataset.scale = canvas.zoom().toFixed(3);
  };
  eventBus.on("canvas.viewbox.changed", showScale);

  // Zoom around the middle of what is shown.
  const zoomTo = (scale) => {
    const size = canvas.getSize();
    const clamped = Math.min(MAX, Math.max(MIN, scale));
    canvas.zoom(clamped, { x: size.width / 2, y: size.height / 2 });
  };

  // Where a view of `size` centred on `centre` starts along one axis: inside the
  // diagram (with a margin), or centred on it when the diagram is the smaller.
  const MARGIN = 20;
  const clampStart = (centre, size, from, length) => {
    if (length + 2 * MARGIN <= size) return from + length / 2 - size / 2;
    const start = centre - size / 2;
    return Math.min(Math.max(start, from - MARGIN), from + length + MARGIN - size);
  };

  // Show `id` (else the diagram's start) as near the middle as the diagram allows.
  const centreOn = (id, scale) => {
    const element = id ? registry.get(id) : null;
    const size = canvas.getSize();
    const width = size.width / scale;
    const height = size.height / scale;
    const whole = canvas.viewbox().inner;
    const cx = element ? element.x + element.width / 2 : whole.x;
    const cy = element ? element.y + element.height / 2 : whole.y;
    canvas.viewbox({
      x: clampStart(cx, width, whole.x, whole.width),
      y: clampStart(cy, height, whole.y, whole.height),
      width,
      height,
    });
  };

  // Small diagrams fit whole; wide ones open legible on where the case stands.
  const start = () => {
    canvas.zoom("fit-viewport", "auto");
    if (canvas.zoom() < LEGIBLE) {
      centreOn(data.focus, LEGIBLE);
    } else if (canvas.zoom() > 1) {
      zoomTo(1);
    }
    showScale();
  };
  start();

  const actions = {
    "zoom-in": () => zoomTo(canvas.zoom() * STEP),
    "zoom-out": () => zoomTo(canvas.zoom() / STEP),
    fit: () => canvas.zoom("fit-viewport", "auto"),
    current: start,
  };
  const tools = document.getElementById("diagram-tools");
  if (tools) {
    for (const button of tools.querySelectorAll("button[data-zoom]")) {
      button.addEventListener("click", () => actions[button.dataset.zoom]());
    }
    tools.hidden = false;
  }
  container.dataset.ready = "true";
})();
