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
import { workbench } from "./workbench.js";

(async function () {
  const holder = document.getElementById("editor-data");
  const container = document.getElementById("dmn-editor");
  if (!holder || !container) return;
  const data = JSON.parse(holder.textContent);
  const t = data.texts;
  const language = document.documentElement.lang;
  const list = document.getElementById("problems");

  const translate = { translate: ["value", translator(language)] };
  const modeler = new DmnModeler({
    container,
    common: { keyboard: { bindTo: container } },
    decisionTable: { additionalModules: [translate] },
    drd: { additionalModules: [translate] },
  });

  let problems = [];

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
    bench.summarize(found.length);
  };

  const bench = workbench({
    data,
    container,
    kind: "decision",
    saveXML: async () => (await modeler.saveXML({ format: true })).xml,
    open: (xml) => open(xml),
    showProblems,
    editingKey: "decisions_editing",
  });

  const watch = () => {
    const viewer = table();
    if (!viewer) return;
    const eventBus = viewer.get("eventBus");
    eventBus.on("elements.changed", () => {
      window.setTimeout(mark, 0);
      bench.changed();
    });
  };

  // Open the decision table itself (a file without a diagram opens there anyway).
  const open = async (xml) => {
    await modeler.importXML(xml);
    const view = modeler.getViews().find((v) => v.type === "decisionTable");
    if (view && modeler.getActiveView() !== view) await modeler.open(view);
    watch();
  };

  await bench.start();
})();
