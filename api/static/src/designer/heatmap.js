// The heat map mode of /designer/{key} (api/templates/_designer_heatmap.html): any
// deployed version's diagram in a NavigatedViewer beside the modeler (the draft stays
// untouched), each user task coloured by its share breached or by its volume, with
// badges (done · open now · median working time · breached) from
// /designer/{key}/versions/{n}/stats (api/web/designer_insight.py), and a legend.
import NavigatedViewer from "bpmn-js/lib/NavigatedViewer";

import { showLegibly } from "./view.js";

const LEVELS = ["fd-heat-0", "fd-heat-1", "fd-heat-2", "fd-heat-3"];
const NONE = "fd-heat-none"; // no task of the element yet

// 0 none breached, 1 under 20%, 2 from 20% to 50%, 3 over 50%.
const shareLevel = (share) => (share === null ? null : share === 0 ? 0 : share < 0.2 ? 1 : share <= 0.5 ? 2 : 3);

// Thirds of the busiest element's volume (done + open); 0 is kept for "none breached".
const volumeLevel = (volume, busiest) => {
  if (!volume || !busiest) return null;
  const part = volume / busiest;
  return part <= 1 / 3 ? 1 : part <= 2 / 3 ? 2 : 3;
};

const legendEntries = (t, colour) =>
  colour === "share"
    ? [
        ["fd-heat-0", t.designer_heat_share_0],
        ["fd-heat-1", t.designer_heat_share_low],
        ["fd-heat-2", t.designer_heat_share_mid],
        ["fd-heat-3", t.designer_heat_share_high],
        ["fd-heat-none", t.designer_heat_none],
      ]
    : [
        ["fd-heat-1", t.designer_heat_volume_low],
        ["fd-heat-2", t.designer_heat_volume_mid],
        ["fd-heat-3", t.designer_heat_volume_high],
        ["fd-heat-none", t.designer_heat_none],
      ];

export function setUpHeatmap() {
  const holder = document.getElementById("heatmap-data");
  const section = document.getElementById("heatmap");
  if (!holder || !section) return;
  const data = JSON.parse(holder.textContent);
  const t = data.texts;
  const container = document.getElementById("heatmap-canvas");
  const versionChoice = document.getElementById("heatmap-version");
  const colourChoice = document.getElementById("heatmap-colour");
  const summary = document.getElementById("heatmap-summary");
  const legend = document.getElementById("heatmap-legend");
  const modelButton = document.getElementById("mode-model");
  const heatButton = document.getElementById("mode-heatmap");
  const modelParts = () => document.querySelectorAll(".designer-tools, .designer-workbench, .designer-problems, #designer-editing");

  let viewer = null;
  let figures = null;
  let shownVersion = null;
  let latest = 0; // the newest reading asked for: an older answer that arrives later is dropped

  const drawLegend = () => {
    legend.replaceChildren(
      ...legendEntries(t, colourChoice.value).map(([level, text]) => {
        const item = document.createElement("li");
        const swatch = document.createElement("span");
        swatch.className = `swatch ${level}`;
        item.append(swatch, text);
        return item;
      }),
    );
  };

  const paint = () => {
    const canvas = viewer.get("canvas");
    const overlays = viewer.get("overlays");
    const registry = viewer.get("elementRegistry");
    overlays.remove({ type: "fd-heat" });
    const busiest = Math.max(0, ...figures.elements.map((e) => e.completed + e.open));
    for (const element of figures.elements) {
      if (!registry.get(element.element_id)) continue; // a task only older cases had
      for (const level of [...LEVELS, NONE]) canvas.removeMarker(element.element_id, level);
      const level =
        colourChoice.value === "share"
          ? shareLevel(element.breached_share)
          : volumeLevel(element.completed + element.open, busiest);
      canvas.addMarker(element.element_id, level === null ? NONE : LEVELS[level]);
      const badges = document.createElement("div");
      badges.className = "fd-heat-badges";
      badges.dataset.elementId = element.element_id;
      for (const [kind, text] of [
        ["passed", element.passed_text],
        ["open", element.open_text],
        ["median", element.median_text],
        ["breached", element.breached_text],
      ]) {
        const badge = document.createElement("span");
        badge.className = `fd-heat-badge ${kind}`;
        badge.textContent = text;
        badges.append(badge);
      }
      overlays.add(element.element_id, "fd-heat", { position: { bottom: -2, left: 0 }, html: badges });
    }
    drawLegend();
  };

  const show = async (version) => {
    const reading = ++latest;
    summary.textContent = t.designer_heat_loading;
    container.dataset.ready = "false";
    try {
      const read = (part) => fetch(part.replace("{n}", String(version)), { credentials: "same-origin" });
      const [xmlAnswer, statsAnswer] = await Promise.all([read(data.bpmn_url), read(data.stats_url)]);
      if (!xmlAnswer.ok || !statsAnswer.ok) throw new Error(String(statsAnswer.status));
      const xml = await xmlAnswer.text();
      const answer = await statsAnswer.json();
      if (reading !== latest) return; // the designer chose another version meanwhile
      figures = answer;
      if (!viewer) viewer = new NavigatedViewer({ container });
      if (shownVersion !== version) {
        shownVersion = null;
        await viewer.importXML(xml);
        if (reading !== latest) return;
        showLegibly(viewer.get("canvas"));
        shownVersion = version;
      }
      paint();
      summary.textContent = figures.summary;
      container.dataset.ready = "true";
      container.dataset.version = String(version);
    } catch (err) {
      if (reading !== latest) return;
      summary.textContent = t.designer_heat_failed;
      container.dataset.ready = "error";
    }
  };

  const setMode = (heat) => {
    section.hidden = !heat;
    for (const part of modelParts()) part.hidden = heat;
    heatButton.setAttribute("aria-pressed", String(heat));
    modelButton.setAttribute("aria-pressed", String(!heat));
    if (heat) show(Number(versionChoice.value));
  };

  heatButton.addEventListener("click", () => setMode(true));
  modelButton.addEventListener("click", () => setMode(false));
  versionChoice.addEventListener("change", () => show(Number(versionChoice.value)));
  colourChoice.addEventListener("change", () => figures && paint());
}
