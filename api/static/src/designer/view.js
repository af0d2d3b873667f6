// Shared by the heat map and the version compare: show a read-only diagram whole when
// it fits, else from its start at a scale whose labels stay legible (then drag, or
// Ctrl + wheel to zoom).
const MARGIN = 20;

export function showLegibly(canvas, legible = 0.8) {
  const size = canvas.getSize();
  const inner = canvas.viewbox().inner;
  if (!inner.width || !inner.height) return;
  const whole = Math.min((size.width - 2 * MARGIN) / inner.width, (size.height - 2 * MARGIN) / inner.height, 1);
  const scale = Math.max(whole, legible);
  canvas.viewbox({
    x: inner.x - MARGIN / scale,
    y: inner.y - MARGIN / scale,
    width: size.width / scale,
    height: size.height / scale,
  });
}
