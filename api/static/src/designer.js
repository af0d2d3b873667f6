// The process designer's modeler on /designer/{key} (api/web/designer.py): bpmn-js's
// Modeler with its palette and a properties panel carrying flowdesk's properties,
// bundled from npm by esbuild (`npm run build`, run by the Makefile's set-up) into
// api/static/dist/. As the diagram changes it is checked by the server (the rules of
// a deploy), the faulty elements are marked on the canvas and listed; the draft is
// kept in this browser (localStorage) until it is deployed or discarded.
import "bpmn-js/dist/assets/diagram-js.css";
import "bpmn-js/dist/assets/bpmn-js.css";
import "bpmn-js/dist/assets/bpmn-font/css/bpmn.css";
import "@bpmn-io/properties-panel/dist/assets/properties-panel.css";

import BpmnModeler from "bpmn-js/lib/Modeler";
import { BpmnPropertiesPanelModule, BpmnPropertiesProviderModule } from "bpmn-js-properties-panel";

import FlowdeskPropertiesModule from "./designer/properties.js";
import translator from "./designer/translate.js";
import { setUpCompare } from "./designer/compare.js";
import { setUpHeatmap } from "./designer/heatmap.js";
import { workbench } from "./workbench.js";

// The heat map mode of this page and the version compare page (each only where it is).
setUpHeatmap();
setUpCompare();

(async function () {
  const holder = document.getElementById("modeler-data");
  const container = document.getElementById("modeler");
  if (!holder || !container) return;
  const data = JSON.parse(holder.textContent);
  const t = data.texts;
  const language = document.documentElement.lang;
  const list = document.getElementById("problems");

  const modeler = new BpmnModeler({
    container,
    // The general group (name, id) opens with flowdesk's own.
    propertiesPanel: { parent: "#properties", layout: { groups: { general: { open: true } } } },
    additionalModules: [
      BpmnPropertiesPanelModule,
      BpmnPropertiesProviderModule,
      FlowdeskPropertiesModule,
      { translate: ["value", translator(language)] },
    ],
    flowdesk: data,
  });
  const canvas = modeler.get("canvas");
  const registry = modeler.get("elementRegistry");
  const overlays = modeler.get("overlays");
  const selection = modeler.get("selection");
  const eventBus = modeler.get("eventBus");

  let marked = [];

  const clearMarks = () => {
    for (const id of marked) {
      if (registry.get(id)) canvas.removeMarker(id, "fd-problem");
    }
    overlays.remove({ type: "fd-problems" });
    marked = [];
  };

  const nameOf = (problem) => {
    const element = problem.element_id ? registry.get(problem.element_id) : null;
    const name = element ? element.businessObject.name : problem.element_name;
    return name || problem.element_id || t.designer_problem_whole_file;
  };

  const showProblems = (problems) => {
    clearMarks();
    list.replaceChildren();
    const counts = {};
    for (const problem of problems) {
      const element = problem.element_id ? registry.get(problem.element_id) : null;
      const item = document.createElement("li");
      item.dataset.elementId = problem.element_id || "";
      const text = `${nameOf(problem)}：${problem.message}`;
      if (element) {
        counts[element.id] = (counts[element.id] || 0) + 1;
        const button = document.createElement("button");
        button.type = "button";
        button.textContent = text;
        button.addEventListener("click", () => {
          selection.select(element);
          canvas.scrollToElement(element, { top: 120, bottom: 120, left: 200, right: 200 });
        });
        item.append(button);
      } else {
        item.textContent = text;
      }
      list.append(item);
    }
    for (const [id, count] of Object.entries(counts)) {
      canvas.addMarker(id, "fd-problem");
      marked.push(id);
      const badge = document.createElement("div");
      badge.className = "fd-problem-badge";
      badge.textContent = String(count);
      badge.title = t.designer_problems.replace("{n}", String(count));
      overlays.add(id, "fd-problems", { position: { top: -9, right: 9 }, html: badge });
    }
    bench.summarize(problems.length);
  };

  const bench = workbench({
    data,
    container,
    kind: "designer",
    saveXML: async () => (await modeler.saveXML({ format: true })).xml,
    open: (xml) => open(xml),
    showProblems,
    editingKey: "designer_editing",
  });
  eventBus.on("commandStack.changed", bench.changed);

  // The whole diagram right of the palette (which floats over the canvas's left), or
  // a wide one from its start at a scale whose labels stay legible (then drag, or
  // Ctrl + wheel to zoom).
  const PALETTE_WIDTH = 120;
  const MARGIN = 20;
  const LEGIBLE = 0.75;
  const fit = () => {
    const size = canvas.getSize();
    const inner = canvas.viewbox().inner;
    if (!inner.width || !inner.height) return;
    const whole = Math.min(
      (size.width - PALETTE_WIDTH - 2 * MARGIN) / inner.width,
      (size.height - 2 * MARGIN) / inner.height,
      1,
    );
    const scale = Math.max(whole, LEGIBLE);
    canvas.viewbox({
      x: inner.x - (PALETTE_WIDTH + MARGIN) / scale,
      y: inner.y - MARGIN / scale,
      width: size.width / scale,
      height: size.height / scale,
    });
  };

  // SpiffWorkflow names a multi-instance task's collections by variable
  // (<loopDataInputRef>departments</loopDataInputRef>), which bpmn-moddle reads as a
  // reference to an element id that does not exist and would drop on saving: keep
  // each such name as a stand-in that saves as the same text.
  const moddle = modeler.get("moddle");
  const keepVariableReferences = (warnings) => {
    for (const warning of warnings || []) {
      const { element, property, value } = warning;
      if (!element || !property || typeof value !== "string") continue;
      if (!String(warning.message).startsWith("unresolved reference")) continue;
      const descriptor = element.$descriptor.propertiesByName[property];
      if (descriptor && !descriptor.isMany && !element.get(property)) {
        element.set(property, moddle.create("bpmn:DataInput", { id: value }));
      }
    }
  };

  const open = async (xml) => {
    const { warnings } = await modeler.importXML(xml);
    keepVariableReferences(warnings);
    fit();
  };

  await bench.start();
})();
