// flowdesk's own properties in the designer's properties panel: a lane's department,
// and on tasks and events the SpiffWorkflow extension properties flowdesk reads
// (`<spiff:property name=… value=…>`): name_en, sla_hours[_<severity>], sla_calendar,
// escalation, due_from_variable; the task's form is shown from the deployed forms.
//
// The spiff namespace is not registered with bpmn-moddle: its elements stay generic
// ("any") elements, so every spiff extension a file has (scripts, decisions, …)
// survives an edit untouched; these entries read and write only <spiff:property>.
import { h } from "@bpmn-io/properties-panel/preact";
import {
  DescriptionEntry,
  SelectEntry,
  TextFieldEntry,
  isSelectEntryEdited,
  isTextFieldEntryEdited,
} from "@bpmn-io/properties-panel";
import { useService } from "bpmn-js-properties-panel";
import { getBusinessObject, is } from "bpmn-js/lib/util/ModelUtil";

export const SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core";
const HUMAN_TASKS = ["bpmn:UserTask", "bpmn:ManualTask"];
const NAMED = ["bpmn:FlowNode", "bpmn:Process", "bpmn:Participant"];

function spiffProperties(bo) {
  const ext = bo.get("extensionElements");
  return ext ? (ext.get("values") || []).find((v) => v.$type === "spiff:properties") : null;
}

function propertyElement(bo, name) {
  const props = spiffProperties(bo);
  return props ? (props.$children || []).find((c) => c.$type === "spiff:property" && c.name === name) : null;
}

export function spiffProperty(bo, name) {
  const found = propertyElement(bo, name);
  return found && found.value != null ? String(found.value) : "";
}

// One undoable change: create <extensionElements> and <spiff:properties> when missing,
// then add, change or (for an empty value) remove the property.
function setSpiffProperty(injector, element, name, value) {
  const bpmnFactory = injector.get("bpmnFactory");
  const moddle = injector.get("moddle");
  const bo = element.type === "bpmn:Participant" && getBusinessObject(element).processRef
    ? getBusinessObject(element).processRef
    : getBusinessObject(element);
  const commands = [];
  const update = (moddleElement, properties) =>
    commands.push({ cmd: "element.updateModdleProperties", context: { element, moddleElement, properties } });
  const text = value == null ? "" : String(value).trim();
  let ext = bo.get("extensionElements");
  let props = spiffProperties(bo);
  const existing = propertyElement(bo, name);
  if (!text) {
    if (existing) update(props, { $children: props.$children.filter((c) => c !== existing) });
  } else if (existing) {
    update(existing, { value: text });
  } else {
    if (!ext) {
      ext = bpmnFactory.create("bpmn:ExtensionElements", { values: [] });
      ext.$parent = bo;
      update(bo, { extensionElements: ext });
    }
    if (!props) {
      props = moddle.createAny("spiff:properties", SPIFF_NS, {});
      props.$children = [];
      props.$parent = ext;
      update(ext, { values: [...(ext.get("values") || []), props] });
    }
    const created = moddle.createAny("spiff:property", SPIFF_NS, { name, value: text });
    created.$parent = props;
    update(props, { $children: [...(props.$children || []), created] });
  }
  if (commands.length) injector.get("commandStack").execute("properties-panel.multi-command-executor", commands);
}

function ownerOf(element) {
  const bo = getBusinessObject(element);
  return is(element, "bpmn:Participant") && bo.processRef ? bo.processRef : bo;
}

function TextProperty(props) {
  const { element, id, label, name, description } = props;
  const injector = useService("injector");
  const debounce = useService("debounceInput");
  return h(TextFieldEntry, {
    element,
    id,
    label,
    description,
    debounce,
    getValue: () => spiffProperty(ownerOf(element), name),
    setValue: (value) => setSpiffProperty(injector, element, name, value),
  });
}

function SelectProperty(props) {
  const { element, id, label, name, options, none } = props;
  const injector = useService("injector");
  return h(SelectEntry, {
    element,
    id,
    label,
    getValue: () => spiffProperty(ownerOf(element), name),
    setValue: (value) => setSpiffProperty(injector, element, name, value),
    getOptions: () => [{ value: "", label: none }, ...options],
  });
}

// The department a lane's name stands for, as the server reads it: its code or its
// CONTRACT.md name in either language (`names`), never a display name chosen since.
function departmentOfLane(name, departments, names) {
  const wanted = (name || "").trim().replace(/\s+/g, " ").toLowerCase();
  if (!wanted) return "";
  for (const d of departments) {
    const known = [d.value, ...(names[d.value] || [])].map((n) => n.toLowerCase());
    if (known.includes(wanted)) return d.value;
  }
  return "";
}

function LaneDepartment(props) {
  const { element, id, data } = props;
  const modeling = useService("modeling");
  const t = data.texts;
  return h(SelectEntry, {
    element,
    id,
    label: t.designer_lane_department,
    getValue: () => departmentOfLane(getBusinessObject(element).name, data.departments, data.department_names),
    // The lane is named by the department's Chinese name as CONTRACT.md has it (what the
    // shipped diagrams say), which keeps naming it whatever an admin renames it to.
    setValue: (code) => {
      const names = data.department_names[code];
      if (names) modeling.updateProperties(element, { name: names[0] });
    },
    getOptions: () => [{ value: "", label: t.designer_lane_department_none }, ...data.departments],
  });
}

function FormInfo(props) {
  const { element, id, data } = props;
  const title = data.forms[getBusinessObject(element).id];
  return h(DescriptionEntry, {
    element,
    id,
    value: `${data.texts.designer_form}：${title || data.texts.designer_form_none}`,
  });
}

function textEntry(data, element, name, label, description) {
  return {
    id: `fd-${name}`,
    component: TextProperty,
    element,
    name,
    label,
    description,
    isEdited: isTextFieldEntryEdited,
  };
}

function calendarEntry(element, name, label, data) {
  return {
    id: `fd-${name}`,
    component: SelectProperty,
    element,
    name,
    label,
    options: data.calendars,
    none: data.texts.designer_calendar_default,
    isEdited: isSelectEntryEdited,
  };
}

function entriesFor(element, data) {
  const t = data.texts;
  if (is(element, "bpmn:Lane")) {
    return [{ id: "fd-lane-department", component: LaneDepartment, element, data, isEdited: isSelectEntryEdited }];
  }
  const entries = [];
  if (NAMED.some((type) => is(element, type))) {
    entries.push(textEntry(data, element, "name_en", t.designer_name_en));
  }
  if (HUMAN_TASKS.some((type) => is(element, type))) {
    entries.push(textEntry(data, element, "sla_hours", t.designer_sla_hours));
    for (const severity of data.severities) {
      const label = t.designer_sla_hours_for.replace("{severity}", severity.label);
      entries.push(textEntry(data, element, `sla_hours_${severity.value}`, label));
    }
    entries.push(calendarEntry(element, "sla_calendar", t.designer_sla_calendar, data));
    for (const severity of data.severities) {
      const label = t.designer_sla_calendar_for.replace("{severity}", severity.label);
      entries.push(calendarEntry(element, `sla_calendar_${severity.value}`, label, data));
    }
    entries.push({
      id: "fd-escalation",
      component: SelectProperty,
      element,
      name: "escalation",
      label: t.designer_escalation,
      options: data.ladders,
      none: t.designer_escalation_default,
      isEdited: isSelectEntryEdited,
    });
    entries.push(textEntry(data, element, "due_from_variable", t.designer_due_from_variable));
    entries.push(textEntry(data, element, "department", t.designer_department_property));
    entries.push({ id: "fd-form", component: FormInfo, element, data });
  }
  return entries;
}

function FlowdeskPropertiesProvider(propertiesPanel, config) {
  const data = config;
  this.getGroups = (element) => (groups) => {
    const entries = entriesFor(element, data);
    if (entries.length) {
      // Right after the general group (name, id): what a flowdesk designer edits most.
      groups.splice(1, 0, { id: "flowdesk", label: data.texts.designer_group_flowdesk, entries, shouldOpen: true });
    }
    return groups;
  };
  propertiesPanel.registerProvider(500, this);
}

FlowdeskPropertiesProvider.$inject = ["propertiesPanel", "config.flowdesk"];

export default {
  __init__: ["flowdeskPropertiesProvider"],
  flowdeskPropertiesProvider: ["type", FlowdeskPropertiesProvider],
};
