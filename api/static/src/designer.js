// The process designer's modeler on /designer/{key} (api/web/designer.py): bpmn-js's
// Modeler with its palette and a properties panel, bundled from npm by esbuild
// (`npm run build`, run by the Makefile's set-up) into api/static/dist/.
import "bpmn-js/dist/assets/diagram-js.css";
import "bpmn-js/dist/assets/bpmn-js.css";
import "bpmn-js/dist/assets/bpmn-font/css/bpmn.css";
import "@bpmn-io/properties-panel/dist/assets/properties-panel.css";

import BpmnModeler from "bpmn-js/lib/Modeler";
import { BpmnPropertiesPanelModule, BpmnPropertiesProviderModule } from "bpmn-js-properties-panel";

window.FlowdeskModeler = { BpmnModeler, modules: [BpmnPropertiesPanelModule, BpmnPropertiesProviderModule] };
