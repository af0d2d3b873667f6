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

const CHECK_DELAY_MS = 500;

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
  const draftKey = `flowdesk.designer.${data.key}`;
  const status = document.getElementById("designer-status");
  const list = document.getElementById("problems");
  const summary = document.getElementById("problems-summary");
  const deployButton = document.getElementById("designer-deploy");
  const discardButton = document.getElementById("designer-discard");

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

  // What the modeler holds differs from the deployed version (a draft).
  let edited = false;
  let checks = 0;
  let marked = [];

  const say = (text, kind) => {
    status.textContent = text;
    status.className = kind || "";
  };

  const readDraft = () => {
    try {
      const draft = JSON.parse(window.localStorage.getItem(draftKey) || "null");
      return draft && draft.base_version === data.version && draft.xml ? draft : null;
    } catch (err) {
      return null;
    }
  };
  const keepDraft = (xml) => {
    window.localStorage.setItem(draftKey, JSON.stringify({ base_version: data.version, xml }));
    discardButton.hidden = false;
  };
  const dropDraft = () => {
    window.localStorage.removeItem(draftKey);
    discardButton.hidden = true;
  };

  const post = async (url, xml) => {
    const body = new URLSearchParams({ csrf_token: data.csrf, xml });
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { Accept: "application/json" },
      body,
    });
  };

  // The XML to check or deploy: the deployed text itself while nothing was edited,
  // so that deploying an untouched diagram says "unchanged".
  const currentXml = async () => {
    if (!edited) return data.xml;
    const { xml } = await modeler.saveXML({ format: true });
    return xml;
  };

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
    if (problems.length) {
      summary.textContent = t.designer_problems.replace("{n}", String(problems.length));
      say(summary.textContent, "bad");
    } else {
      summary.textContent = t.designer_valid;
      say(t.designer_valid, "ok");
    }
    container.dataset.problems = String(problems.length);
  };

  // Only the newest check's answer is shown (an older one may come back later).
  let asked = 0;
  const check = async () => {
    const mine = ++asked;
    say(t.designer_checking);
    try {
      const answer = await post(data.validate_url, await currentXml());
      if (!answer.ok) throw new Error(String(answer.status));
      const result = await answer.json();
      if (mine !== asked) return;
      showProblems(result.problems);
    } catch (err) {
      if (mine === asked) say(t.designer_check_failed, "bad");
    }
    if (mine === asked) container.dataset.checks = String(++checks);
  };

  let timer = null;
  const checkSoon = () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(check, CHECK_DELAY_MS);
  };

  eventBus.on("commandStack.changed", async () => {
    edited = true;
    const { xml } = await modeler.saveXML({ format: true });
    keepDraft(xml);
    checkSoon();
  });

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

  const draft = readDraft();
  try {
    await open(draft ? draft.xml : data.xml);
  } catch (err) {
    container.dataset.ready = "error";
    say(String(err && err.message ? err.message : err), "bad");
    return;
  }
  edited = Boolean(draft);
  discardButton.hidden = !draft;
  container.dataset.ready = "true";
  await check();
  if (draft) say(t.designer_draft_restored, "");

  discardButton.addEventListener("click", async () => {
    dropDraft();
    await open(data.xml);
    edited = false;
    await check();
    say(t.designer_draft_discarded, "");
  });

  deployButton.addEventListener("click", async () => {
    deployButton.disabled = true;
    say(t.designer_deploying);
    try {
      const xml = await currentXml();
      const answer = await post(data.deploy_url, xml);
      const result = await answer.json();
      if (answer.status === 422) {
        showProblems(result.problems || []);
        say(t.designer_deploy_refused, "bad");
      } else if (answer.ok) {
        dropDraft();
        data.version = result.version;
        data.xml = xml;
        edited = false;
        say(result.message, "ok");
        container.dataset.deployed = String(result.version);
        document.getElementById("designer-editing").textContent = t.designer_editing.replace(
          "{n}",
          String(result.version),
        );
      } else {
        say(t.designer_check_failed, "bad");
      }
    } catch (err) {
      say(t.designer_check_failed, "bad");
    } finally {
      deployButton.disabled = false;
    }
  });
})();
