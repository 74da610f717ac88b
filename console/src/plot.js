// Hand-drawn SVG plots: lines over the window's buckets, with axes, a legend and a title for
// each point. No library: the series are short (60 buckets).

const NS = 'http://www.w3.org/2000/svg';
const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#d97706', '#7c3aed'];

function el(tag, attrs, text) {
  const node = document.createElementNS(NS, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

function niceMax(value) {
  if (value <= 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) {
    if (value <= step * magnitude) return step * magnitude;
  }
  return 10 * magnitude;
}

// lines: [{label, values: [number|null]}]; fromMs and bucketMs place the x axis.
export function linePlot({ title, unit, lines, fromMs, bucketMs, stacked = false }) {
  const width = 520;
  const height = 180;
  const left = 44;
  const right = 8;
  const top = 24;
  const bottom = 24;
  const svg = el('svg', {
    viewBox: `0 0 ${width} ${height}`,
    class: 'plot',
    role: 'img',
    'aria-label': `${title}: ${lines.map((l) => `${l.label} total ${sum(l.values)}`).join(', ')}`,
  });
  svg.append(el('text', { x: left, y: 14, class: 'plot-title' }, title));
  const count = Math.max(1, ...lines.map((l) => l.values.length));
  const max = niceMax(Math.max(0, ...lines.flatMap((l) => l.values.filter((v) => v !== null))));
  const x = (i) => left + ((width - left - right) * (i + 0.5)) / count;
  const y = (v) => top + (height - top - bottom) * (1 - v / max);
  for (const fraction of [0, 0.5, 1]) {
    const value = max * fraction;
    svg.append(el('line', { x1: left, x2: width - right, y1: y(value), y2: y(value), class: 'grid' }));
    svg.append(el('text', { x: left - 4, y: y(value) + 4, class: 'axis', 'text-anchor': 'end' }, formatValue(value, unit)));
  }
  for (const i of [0, Math.floor(count / 2), count - 1]) {
    const at = new Date(fromMs + i * bucketMs);
    const label = `${String(at.getHours()).padStart(2, '0')}:${String(at.getMinutes()).padStart(2, '0')}`;
    const anchor = i === 0 ? 'start' : i === count - 1 ? 'end' : 'middle';
    svg.append(el('text', { x: x(i), y: height - 6, class: 'axis', 'text-anchor': anchor }, label));
  }
  lines.forEach((line, index) => {
    const color = line.color || COLORS[index % COLORS.length];
    let path = '';
    let pen = false;
    line.values.forEach((value, i) => {
      if (value === null || value === undefined) {
        pen = false;
        return;
      }
      path += `${pen ? 'L' : 'M'}${x(i).toFixed(1)},${y(value).toFixed(1)}`;
      pen = true;
      if (value > 0) {
        const dot = el('circle', { cx: x(i), cy: y(value), r: 2.2, fill: color });
        dot.append(el('title', {}, `${line.label}: ${formatValue(value, unit)} at ${new Date(fromMs + i * bucketMs).toLocaleTimeString()}`));
        svg.append(dot);
      }
    });
    svg.append(el('path', { d: path, fill: 'none', stroke: color, 'stroke-width': 1.6 }));
    const legendX = width - right - 110 * (lines.length - index);
    svg.append(el('rect', { x: legendX, y: 6, width: 10, height: 10, fill: color }));
    svg.append(el('text', { x: legendX + 14, y: 15, class: 'legend' }, line.label));
  });
  if (stacked) svg.classList.add('stacked');
  return svg;
}

// A horizontal bar of counts by state: [{label, value, color}].
export function barPlot({ title, bars }) {
  const width = 520;
  const row = 22;
  const height = 24 + row * bars.length;
  const left = 90;
  const max = niceMax(Math.max(1, ...bars.map((b) => b.value)));
  const svg = el('svg', {
    viewBox: `0 0 ${width} ${height}`,
    class: 'plot',
    role: 'img',
    'aria-label': `${title}: ${bars.map((b) => `${b.label} ${b.value}`).join(', ')}`,
  });
  svg.append(el('text', { x: 4, y: 14, class: 'plot-title' }, title));
  bars.forEach((bar, i) => {
    const y = 22 + i * row;
    const w = ((width - left - 40) * bar.value) / max;
    svg.append(el('text', { x: left - 6, y: y + 13, class: 'axis', 'text-anchor': 'end' }, bar.label));
    svg.append(el('rect', { x: left, y, width: Math.max(w, 1), height: row - 6, fill: bar.color || COLORS[i % COLORS.length] }));
    svg.append(el('text', { x: left + w + 6, y: y + 13, class: 'axis' }, String(bar.value)));
  });
  return svg;
}

function sum(values) {
  return values.reduce((a, v) => a + (v || 0), 0);
}

function formatValue(value, unit) {
  const rounded = value >= 10 || Number.isInteger(value) ? Math.round(value) : value.toFixed(2);
  return unit ? `${rounded} ${unit}` : String(rounded);
}
