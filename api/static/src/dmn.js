// The decision table editor on /designer/decisions/{id} (api/web/designer_decisions.py):
// dmn-js's Modeler opened on the decision table, bundled from npm by esbuild
// (`npm run build`) into api/static/dist/. As the table changes it is checked by the
// server (the rules of a deploy); the problems are listed and their rules or columns
// marked; the draft is kept in this browser (localStorage) until deployed or discarded.
import "dmn-js/dist/assets/dmn-js-shared.css";
import "dmn-js/dist/assets/dmn-js-decision-table.css";
import "dmn-js/dist/assets/dmn-js-decision-table-controls.css";
import "dmn-js/dist/assets/dmn-font/css/dmn.css";

import DmnModeler from "dmn-js/lib/Modeler";

import translator from "./dmn/translate.js";

const CHECK_DELAY_MS = 500;

(async function () {
  const holder = document.getElementById("editor-data");
  const container = document.getElementById("dmn-editor");
  if (!holder || !container) return;
  const data = JSON.parse(holder.textContent);
  const t = data.texts;
  const language = document.documentElement.lang;
  const draftKey = `flowdesk.decision.${data.key}`;
  const status = document.getElementById("designer-status");
  const list = document.getElementById("problems");
  const summary = document.getElementById("problems-summary");
  const deployButton = document.getElementById("designer-deploy");
  const discardButton = document.getElementById("designer-discard");

  const translate = { translate: ["value", translator(language)] };
  const modeler = new DmnModeler({
    container,
    common: { keyboard: { bindTo: container } },
    decisionTable: { additionalModules: [translate] },
    drd: { additionalModules: [translate] },
  });

  let edited = false;
  let checks = 0;
  let problems = [];

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

  const post = (url, xml) =>
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { Accept: "application/json" },
      body: new URLSearchParams({ csrf_token: data.csrf, xml }),
    });

  // The deployed text itself while nothing was edited, so that deploying an untouched
  // table says "unchanged".
  const currentXml = async () => {
    if (!edited) return data.xml;
    const { xml } = await modeler.saveXML({ format: true });
    return xml;
  };

  const table = () => {
    const viewer = modeler.getActiveViewer();
    return viewer && viewer.get("sheet", false) ? viewer : null;
  };
  // A rule's number (1, 2, …) as the table shows it, 0 when the table has no such rule.
  const ruleNumber = (id) => {
    const viewer = table();
    const rows = viewer ? viewer.get("sheet").getRoot().rows : [];
    return rows.findIndex((row) => row.id === id) + 1;
  };
  const cellsOf = (id) =>
    id
      ? [
          ...container.querySelectorAll(`[data-row-id="${CSS.escape(id)}"]`),
          ...container.querySelectorAll(`[data-col-id="${CSS.escape(id)}"]`),
        ]
      : [];

  // Marks live on cells the table renders itself: put them back after each render.
  const mark = () => {
    for (const cell of container.querySelectorAll(".fd-problem")) cell.classList.remove("fd-problem");
    for (const problem of problems) {
      for (const cell of cellsOf(problem.element_id)) cell.classList.add("fd-problem");
    }
  };

  // A rule's problem names its rule by number; a column's is prefixed with the column.
  const wording = (problem) => {
    if (ruleNumber(problem.element_id)) return problem.message;
    const cells = cellsOf(problem.element_id);
    const where = cells.length
      ? cells[0].textContent.trim() || problem.element_id
      : problem.element_name || t.designer_problem_whole_file;
    return `${where}：${problem.message}`;
  };

  const showProblems = (found) => {
    problems = found;
    list.replaceChildren();
    for (const problem of found) {
      const item = document.createElement("li");
      item.dataset.elementId = problem.element_id || "";
      const text = wording(problem);
      if (cellsOf(problem.element_id).length) {
        const button = document.createElement("button");
        button.type = "button";
        button.textContent = text;
        button.addEventListener("click", () => {
          const cells = cellsOf(problem.element_id);
          if (!cells.length) return;
          for (const cell of container.querySelectorAll(".fd-selected")) {
            cell.classList.remove("fd-selected");
          }
          for (const cell of cells) cell.classList.add("fd-selected");
          cells[0].scrollIntoView({ block: "center", inline: "nearest" });
          const editable = cells.find((cell) => cell.isContentEditable) || cells[0];
          editable.focus();
        });
        item.append(button);
      } else {
        item.textContent = text;
      }
      list.append(item);
    }
    mark();
    if (found.length) {
      summary.textContent = t.designer_problems.replace("{n}", String(found.length));
      say(summary.textContent, "bad");
    } else {
      summary.textContent = t.designer_valid;
      say(t.designer_valid, "ok");
    }
    container.dataset.problems = String(found.length);
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

  const watch = () => {
    const viewer = table();
    if (!viewer) return;
    const eventBus = viewer.get("eventBus");
    eventBus.on("elements.changed", async () => {
      edited = true;
      const { xml } = await modeler.saveXML({ format: true });
      keepDraft(xml);
      window.setTimeout(mark, 0);
      checkSoon();
    });
  };

  // Open the decision table itself (a file without a diagram opens there anyway).
  const open = async (xml) => {
    await modeler.importXML(xml);
    const view = modeler.getViews().find((v) => v.type === "decisionTable");
    if (view && modeler.getActiveView() !== view) await modeler.open(view);
    watch();
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
        document.getElementById("designer-editing").textContent = t.decisions_editing.replace(
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
