// Small SVG charts: lines over time and horizontal bars. No library; text goes in as text nodes.
//
// One palette everywhere: a name (a model, an agent) always gets the same color, on every chart and in the session
// timeline (`colorFor`); red means errors and amber refusals, and nothing else uses them. Times are the viewer's.
import { el, svg } from './dom.js';

const palette = [
  '#2563eb', '#16a34a', '#7c3aed', '#0891b2', '#db2777', '#475569', '#84cc16', '#0f766e', '#4338ca', '#c026d3',
  '#0ea5e9',
];
export const errorColor = '#dc2626';
export const blockedColor = '#d97706';
const otherColor = '#9ca3af';

/** The color of `name` on every chart: the same name, the same color, whatever else is shown beside it. */
export function colorFor(name) {
  if (name === 'other models' || name === null || name === undefined) return otherColor;
  let hash = 2166136261;
  for (let i = 0; i < name.length; i += 1) {
    hash ^= name.charCodeAt(i);
    hash = Math.imul(hash, 16777619) >>> 0;
  }
  return palette[hash % palette.length];
}

/** A tick's label in the viewer's time zone, as [first line, second line or null]: the date alone when the range
 * spans days; else the time, with the date below it on the first tick and wherever the day changes. */
function tickLabel(date, spanMs, previous) {
  const day = date.toLocaleDateString([], { month: 'short', day: 'numeric' });
  if (spanMs > 3 * 86400000) return [day, null];
  const clock = date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  const sameDay = previous && previous.toDateString() === date.toDateString();
  return [clock, sameDay ? null : day];
}

const timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'local time';

/** Room under a time chart's plot for two lines of tick labels. */
const bottomMargin = 36;

function timeTicks(t0, span, left, plotW, height) {
  let previous = null;
  return [0, 0.25, 0.5, 0.75, 1].map((f) => {
    const anchor = f === 0 ? 'start' : f === 1 ? 'end' : 'middle';
    const date = new Date(t0 + span * f);
    const [first, second] = tickLabel(date, span, previous);
    previous = date;
    const x = left + plotW * f;
    return svg('g', { class: 'tick' },
      svg('line', { x1: x, x2: x, y1: height - bottomMargin + 2, y2: height - bottomMargin + 6 }),
      svg('text', { x, y: height - bottomMargin + 18, 'text-anchor': anchor },
        svg('tspan', {}, first), second ? svg('tspan', { x, dy: 13 }, second) : ''));
  });
}

function swatch(color) {
  return svg('svg', { class: 'swatch', width: 10, height: 10, viewBox: '0 0 10 10', 'aria-hidden': 'true' },
    svg('rect', { width: 10, height: 10, rx: 2, fill: color }));
}

function niceMax(value) {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  const step = [1, 2, 2.5, 5, 10].find((s) => s * power >= value);
  return step * power;
}

function legend(series, note) {
  return el('div', { class: 'legend' }, series.map((s) => el('span', {}, swatch(s.color || colorFor(s.name)), s.name)),
    note ? el('span', { class: 'muted' }, note) : '');
}

/** A line chart of `series` ([{name, points: [[Date, number]]}]) over [from, to]. */
export function lineChart(title, series, { from, to, format = String, width = 560, height = 220 } = {}) {
  const left = 84;
  const bottom = bottomMargin;
  const plotW = width - left - 12;
  const plotH = height - bottom - 12;
  const t0 = from.getTime();
  const span = Math.max(1, to.getTime() - t0);
  const values = series.flatMap((s) => s.points.map(([, v]) => v)).filter((v) => v !== null && v !== undefined);
  const max = niceMax(Math.max(0, ...values));
  const x = (date) => left + ((date.getTime() - t0) / span) * plotW;
  const y = (v) => 12 + plotH - (v / max) * plotH;
  const grid = [0, 0.25, 0.5, 0.75, 1].map((f) => svg('g', { class: 'grid' },
    svg('line', { x1: left, x2: left + plotW, y1: y(max * f), y2: y(max * f) }),
    svg('text', { x: left - 6, y: y(max * f) + 4, 'text-anchor': 'end' }, format(max * f))));
  const ticks = timeTicks(t0, span, left, plotW, height);
  const lines = series.map((s) => {
    const points = s.points.filter(([, v]) => v !== null && v !== undefined);
    const color = s.color || colorFor(s.name);
    const path = points.map(([d, v], k) => `${k ? 'L' : 'M'}${x(d).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
    return svg('g', { class: 'series', dataset: { name: s.name } },
      svg('path', { d: path || 'M0,0', stroke: color, fill: 'none', 'stroke-width': '2' }),
      points.map(([d, v]) => svg('circle', { cx: x(d), cy: y(v), r: '3', fill: color },
        svg('title', {}, `${s.name}: ${format(v)} at ${d.toLocaleString()}`))));
  });
  const empty = values.length ? '' : svg('text', { x: left + plotW / 2, y: 12 + plotH / 2, 'text-anchor': 'middle',
    class: 'empty' }, 'no calls in this range');
  return el('figure', { class: 'chart' }, el('figcaption', {}, title),
    svg('svg', { width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': title },
      grid, ticks, lines, empty),
    legend(series, `times in ${timeZone}`));
}

/**
 * Stacked columns over time: `buckets` is [{start: Date, parts: [{name, value}]}], one column per bucket of
 * `bucketMs`, its parts stacked in the order of `names` (the legend).
 */
export function stackedColumns(title, names, buckets, { from, to, bucketMs, format = String, width = 560, height = 220 } = {}) {
  const left = 84;
  const bottom = bottomMargin;
  const plotW = width - left - 12;
  const plotH = height - bottom - 12;
  const t0 = from.getTime();
  const span = Math.max(1, to.getTime() - t0);
  const totals = buckets.map((b) => b.parts.reduce((sum, p) => sum + p.value, 0));
  const max = niceMax(Math.max(0, ...totals));
  const x = (ms) => left + ((ms - t0) / span) * plotW;
  const y = (v) => 12 + plotH - (v / max) * plotH;
  const grid = [0, 0.25, 0.5, 0.75, 1].map((f) => svg('g', { class: 'grid' },
    svg('line', { x1: left, x2: left + plotW, y1: y(max * f), y2: y(max * f) }),
    svg('text', { x: left - 6, y: y(max * f) + 4, 'text-anchor': 'end' }, format(max * f))));
  const ticks = timeTicks(t0, span, left, plotW, height);
  const columnW = Math.max(3, (bucketMs / span) * plotW - 1);
  const columns = buckets.map((bucket) => {
    const start = Math.min(x(bucket.start.getTime()), left + plotW - columnW);
    let base = 0;
    const parts = names.map((name) => {
      const part = bucket.parts.find((p) => p.name === name);
      if (!part || !(part.value > 0)) return '';
      const top = y(base + part.value);
      const rect = svg('rect', {
        x: start.toFixed(1), y: top.toFixed(1), width: columnW.toFixed(1), height: (y(base) - top).toFixed(1),
        fill: colorFor(name), dataset: { name },
      }, svg('title', {}, `${name}: ${format(part.value)} at ${bucket.start.toLocaleString()}`));
      base += part.value;
      return rect;
    });
    return svg('g', { class: 'column' }, parts);
  });
  const empty = buckets.length ? '' : svg('text', { x: left + plotW / 2, y: 12 + plotH / 2, 'text-anchor': 'middle',
    class: 'empty' }, 'no calls in this range');
  return el('figure', { class: 'chart' }, el('figcaption', {}, title),
    svg('svg', { width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': title },
      grid, ticks, columns, empty),
    legend(names.map((name) => ({ name })), `times in ${timeZone}`));
}

/** Horizontal bars: `rows` is [{label, value, color?, note?}], highest first; a row is its label's color unless given. */
export function barChart(title, rows, { format = String, width = 560 } = {}) {
  const rowH = 24;
  const labelW = 170;
  const height = Math.max(1, rows.length) * rowH + 8;
  const max = niceMax(Math.max(0, ...rows.map((r) => r.value)));
  const bars = rows.map((r, i) => {
    const w = Math.max(1, ((width - labelW - 90) * r.value) / max);
    return svg('g', { class: 'bar', transform: `translate(0,${i * rowH + 4})` },
      svg('text', { x: labelW - 8, y: 15, 'text-anchor': 'end' },
        r.label.length > 24 ? `${r.label.slice(0, 23)}…` : r.label),
      svg('rect', { x: labelW, y: 2, width: w, height: rowH - 8, fill: r.color || colorFor(r.label) },
        svg('title', {}, `${r.label}: ${format(r.value)}${r.note ? ` (${r.note})` : ''}`)),
      svg('text', { x: labelW + w + 6, y: 15 }, `${format(r.value)}${r.note ? ` · ${r.note}` : ''}`));
  });
  const empty = rows.length ? '' : svg('text', { x: 10, y: 20, class: 'empty' }, 'no calls in this range');
  return el('figure', { class: 'chart' }, el('figcaption', {}, title),
    svg('svg', { width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': title }, bars, empty));
}
