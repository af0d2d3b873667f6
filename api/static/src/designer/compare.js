// The version compare page /designer/{key}/compare?a=&b= (api/web/designer_insight.py):
// both versions in NavigatedViewers side by side; bpmn-js-differ's semantic diff marks
// what was added (on the newer), removed (on the older), changed and moved (on both).
// bpmn-js-differ does not look into flowdesk's spiff extension elements (generic XML to
// bpmn-moddle): their properties (<spiff:property name value>) and the other spiff
// children (scripts, the decision called) are compared here, and the server says
// which elements' forms differ between the two versions.
import NavigatedViewer from "bpmn-js/lib/NavigatedViewer";
import { diff } from "bpmn-js-differ";

import { showLegibly } from "./view.js";

const fill = (template, values) => template.replace(/\{(\w+)\}/g, (_, name) => (name in values ? values[name] : ""));

// Each spiff extension of an element as name → text: "property:<name>" for a property,
// the element type (spiff:postScript, spiff:calledDecisionId, …) for the others.
const extensionsOf = (bo) => {
  const found = {};
  const values = (bo && bo.extensionElements && bo.extensionElements.get("values")) || [];
  for (const value of values) {
    if (value.$type === "spiff:properties") {
      for (const child of value.$children || []) {
        if (child.$type === "spiff:property" && child.name) found[`property:${child.name}`] = child.value || "";
      }
    } else if (String(value.$type).startsWith("spiff:")) {
      found[value.$type] = value.$body || JSON.stringify(value.$children || []);
    }
  }
  return found;
};

export function setUpCompare() {
  const holder = document.getElementById("compare-data");
  if (!holder) return;
  const data = JSON.parse(holder.textContent);
  const t = data.texts;
  const summary = document.getElementById("compare-summary");
  const body = document.querySelector("#compare-changes tbody");

  const severityOf = (name, prefix) => data.severities[name.slice(prefix.length)] || name.slice(prefix.length);

  // The words for a changed property: flowdesk's own in the designer's terms.
  const propertyLabel = (key) => {
    if (key.startsWith("property:")) {
      const name = key.slice("property:".length);
      if (name === "name_en") return t.designer_name_en;
      if (name === "sla_hours") return t.designer_sla_hours;
      if (name.startsWith("sla_hours_")) return fill(t.designer_sla_hours_for, { severity: severityOf(name, "sla_hours_") });
      if (name === "sla_calendar") return t.designer_sla_calendar;
      if (name.startsWith("sla_calendar_"))
        return fill(t.designer_sla_calendar_for, { severity: severityOf(name, "sla_calendar_") });
      if (name === "escalation") return t.designer_escalation;
      if (name === "due_from_variable") return t.designer_due_from_variable;
      if (name === "department") return t.designer_department_property;
      return fill(t.designer_prop_other, { name });
    }
    if (key === "form") return t.designer_form;
    if (/script/i.test(key)) return t.designer_prop_script;
    if (key === "spiff:calledDecisionId") return t.designer_prop_decision;
    const root = key.split(/[.[]/)[0];
    if (root === "name") return t.designer_prop_name;
    if (root === "conditionExpression") return t.designer_prop_condition;
    if (["incoming", "outgoing", "sourceRef", "targetRef", "default", "flowNodeRef"].includes(root))
      return t.designer_prop_flow;
    return fill(t.designer_prop_other, { name: root });
  };

  const shown = (value) => {
    if (value === null || value === undefined || value === "") return t.designer_change_empty;
    if (typeof value === "object") return value.name || value.id || t.designer_change_empty;
    return String(value);
  };

  const open = async (id, xml) => {
    const viewer = new NavigatedViewer({ container: document.getElementById(id) });
    await viewer.importXML(xml);
    showLegibly(viewer.get("canvas"), 0.6);
    document.getElementById(id).dataset.ready = "true";
    return viewer;
  };

  const nameIn = (viewers, id) => {
    for (const viewer of viewers) {
      const element = viewer.get("elementRegistry").get(id);
      if (!element) continue;
      const bo = element.businessObject;
      if (bo.name) return bo.name;
      if (bo.$type === "bpmn:SequenceFlow") {
        const ends = [bo.sourceRef, bo.targetRef].map((end) => (end && end.name) || "…");
        return `${t.designer_type_sequenceFlow}（${ends.join(" → ")}）`;
      }
      const type = bo.$type.replace("bpmn:", "");
      return t[`designer_type_${type}`] || t.designer_type_other;
    }
    return t.designer_type_other;
  };

  (async () => {
    let older;
    let newer;
    try {
      [older, newer] = await Promise.all([open("compare-old", data.old.xml), open("compare-new", data.new.xml)]);
      // One view of both: dragging or zooming either moves the other alike.
      let following = false;
      for (const [from, to] of [
        [older, newer],
        [newer, older],
      ]) {
        from.on("canvas.viewbox.changed", ({ viewbox }) => {
          if (following) return;
          following = true;
          to.get("canvas").viewbox({ x: viewbox.x, y: viewbox.y, width: viewbox.width, height: viewbox.height });
          following = false;
        });
      }
      const changes = diff(older.getDefinitions(), newer.getDefinitions());
      const oldRegistry = older.get("elementRegistry");
      const newRegistry = newer.get("elementRegistry");
      const rows = [];
      const mark = (viewer, id, marker) => {
        if (viewer.get("elementRegistry").get(id)) viewer.get("canvas").addMarker(id, marker);
      };

      for (const id of Object.keys(changes._added)) {
        mark(newer, id, "fd-added");
        rows.push({ kind: "added", id, properties: [] });
      }
      for (const id of Object.keys(changes._removed)) {
        mark(older, id, "fd-removed");
        rows.push({ kind: "removed", id, properties: [] });
      }
      // Changed: the differ's attributes (its view of extension elements left out)
      // with the spiff extensions and the forms compared here.
      const changed = {};
      for (const [id, change] of Object.entries(changes._changed)) {
        for (const [key, values] of Object.entries(change.attrs)) {
          if (key.startsWith("extensionElements") || key.startsWith("di")) continue;
          // bpmn-js-differ 3.2 hands its change handler jsondiffpatch's [old, new] as
          // (newValue, oldValue): its "newValue" is the older version's value.
          (changed[id] = changed[id] || []).push({ key, oldValue: values.newValue, newValue: values.oldValue });
        }
      }
      for (const element of newRegistry.getAll()) {
        const before = oldRegistry.get(element.id);
        if (!before || element.type === "label") continue;
        const a = extensionsOf(before.businessObject);
        const b = extensionsOf(element.businessObject);
        for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
          if (a[key] !== b[key]) (changed[element.id] = changed[element.id] || []).push({ key, oldValue: a[key], newValue: b[key] });
        }
      }
      for (const id of data.forms_changed) {
        if (oldRegistry.get(id) && newRegistry.get(id)) (changed[id] = changed[id] || []).push({ key: "form" });
      }
      for (const [id, properties] of Object.entries(changed)) {
        mark(older, id, "fd-changed");
        mark(newer, id, "fd-changed");
        rows.push({ kind: "changed", id, properties });
      }
      for (const id of Object.keys(changes._layoutChanged)) {
        if (changed[id] || changes._added[id] || changes._removed[id]) continue;
        mark(older, id, "fd-moved");
        mark(newer, id, "fd-moved");
        rows.push({ kind: "moved", id, properties: [] });
      }

      const order = { added: 0, removed: 1, changed: 2, moved: 3 };
      rows.sort((x, y) => order[x.kind] - order[y.kind]);
      for (const row of rows) {
        const tr = document.createElement("tr");
        tr.dataset.elementId = row.id;
        tr.dataset.kind = row.kind;
        const kind = document.createElement("td");
        kind.className = `kind-${row.kind}`;
        kind.textContent = t[`designer_change_${row.kind}`];
        const name = document.createElement("td");
        name.textContent = nameIn(row.kind === "removed" ? [older] : [newer, older], row.id);
        const properties = document.createElement("td");
        const list = document.createElement("ul");
        const seen = new Set();
        for (const property of row.properties) {
          const label = propertyLabel(property.key);
          const item = document.createElement("li");
          // a script or a list of connections is too long for a line: its name is enough
          const plain = property.key !== "form" && !/script|incoming|outgoing|flowNodeRef/i.test(property.key);
          const text = plain
            ? fill(t.designer_change_values, { name: label, old: shown(property.oldValue), new: shown(property.newValue) })
            : label;
          if (seen.has(text)) continue;
          seen.add(text);
          item.textContent = text;
          list.append(item);
        }
        properties.append(list);
        tr.append(kind, name, properties);
        tr.addEventListener("click", () => {
          for (const viewer of row.kind === "removed" ? [older] : [newer]) {
            const element = viewer.get("elementRegistry").get(row.id);
            if (element) viewer.get("canvas").scrollToElement(element, { top: 80, bottom: 80, left: 200, right: 200 });
          }
        });
        body.append(tr);
      }
      summary.textContent = rows.length ? fill(t.designer_compare_count, { n: rows.length }) : t.designer_compare_none;
      document.getElementById("compare-changes").dataset.changes = String(rows.length);
    } catch (err) {
      summary.textContent = fill(t.designer_compare_failed, { error: String((err && err.message) || err) });
    }
  })();
}
