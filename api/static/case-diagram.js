// Draw the case's BPMN diagram with the bpmn-js viewer (served by flowdesk from npm)
// and mark completed elements, open tasks and breached tasks.
(async function () {
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
  canvas.zoom("fit-viewport");
  const mark = (ids, marker) => {
    for (const id of ids) {
      if (registry.get(id)) canvas.addMarker(id, marker);
    }
  };
  mark(data.done, "fd-done");
  mark(data.open, "fd-open");
  mark(data.breached, "fd-breached");
  container.dataset.ready = "true";
})();
