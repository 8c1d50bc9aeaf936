// Charts for the metrics page, drawn as inline SVG from the report's numbers: nothing is
// fetched and no library is loaded. Each chart is an <svg role="img"> with a <title>, one
// mark per bucket (a bar, or a point on the line) carrying its own <title> as a tooltip.

const NS = "http://www.w3.org/2000/svg";
const WIDTH = 640;
const HEIGHT = 200;
const PAD = { left: 64, right: 12, top: 12, bottom: 28 };

function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value !== null && value !== undefined) el.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

// A round upper bound for the y axis: 1, 2 or 5 times a power of ten.
function niceMax(value) {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) {
    if (value <= step * power) return step * power;
  }
  return 10 * power;
}

function frame(title, id, yMax, yFormat, points, xFormat) {
  const plotWidth = WIDTH - PAD.left - PAD.right;
  const plotHeight = HEIGHT - PAD.top - PAD.bottom;
  const y = (value) => PAD.top + plotHeight - (value / yMax) * plotHeight;
  const slot = plotWidth / Math.max(points.length, 1);
  const x = (index) => PAD.left + slot * index + slot / 2;
  const titleId = `${id}-title`;
  const svg = s("svg", { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, class: "chart", role: "img",
                         "aria-labelledby": titleId, "data-chart": id },
    s("title", { id: titleId }, title));
  for (const tick of [0, yMax / 2, yMax]) {
    svg.append(
      s("line", { class: "grid", x1: PAD.left, x2: WIDTH - PAD.right, y1: y(tick), y2: y(tick) }),
      s("text", { class: "tick", x: PAD.left - 6, y: y(tick) + 4, "text-anchor": "end" }, yFormat(tick)));
  }
  const labelled = new Set([0, Math.floor((points.length - 1) / 2), points.length - 1]);
  points.forEach((point, index) => {
    if (labelled.has(index)) {
      const last = points.length - 1;
      const anchor = index === 0 ? "start" : index === last ? "end" : "middle";
      const at = index === 0 ? PAD.left : index === last ? WIDTH - PAD.right : x(index);
      svg.append(s("text", { class: "tick", x: at, y: HEIGHT - 8, "text-anchor": anchor },
        xFormat(point.x)));
    }
  });
  return { svg, x, y, slot, plotHeight };
}

// points: [{x: Date, y: number}]; one bar per point.
export function barChart({ id, title, points, yFormat = String, xFormat = String, className = "" }) {
  const yMax = niceMax(Math.max(0, ...points.map((p) => p.y)));
  const { svg, x, y, slot } = frame(title, id, yMax, yFormat, points, xFormat);
  const barWidth = Math.max(1, slot * 0.7);
  points.forEach((point, index) => {
    const top = y(point.y);
    svg.append(s("rect", { class: `bar ${className}`, x: x(index) - barWidth / 2, y: top,
                           width: barWidth, height: Math.max(0, y(0) - top), "data-value": point.y },
      s("title", {}, `${xFormat(point.x)}: ${yFormat(point.y)}`)));
  });
  return svg;
}

// points: [{x: Date, y: number | null}]; null is a gap (no data in that bucket).
// yMax fixes the axis (1 for a rate); otherwise it is the data's, at least minTop.
export function lineChart({ id, title, points, yMax = null, minTop = 1, yFormat = String,
                            xFormat = String }) {
  const known = points.filter((p) => p.y !== null && p.y !== undefined);
  const top = yMax === null ? niceMax(Math.max(minTop, ...known.map((p) => p.y))) : yMax;
  const { svg, x, y } = frame(title, id, top, yFormat, points, xFormat);
  let path = "";
  let pen = "M";
  points.forEach((point, index) => {
    if (point.y === null || point.y === undefined) { pen = "M"; return; }
    path += `${pen}${x(index).toFixed(1)},${y(point.y).toFixed(1)} `;
    pen = "L";
  });
  if (path) svg.append(s("path", { class: "line", d: path.trim() }));
  points.forEach((point, index) => {
    if (point.y === null || point.y === undefined) return;
    svg.append(s("circle", { class: "point", cx: x(index), cy: y(point.y), r: 3, "data-value": point.y },
      s("title", {}, `${xFormat(point.x)}: ${yFormat(point.y)}`)));
  });
  if (!known.length) {
    svg.append(s("text", { class: "empty", x: WIDTH / 2, y: HEIGHT / 2, "text-anchor": "middle" },
      "No data in this window"));
  }
  return svg;
}
