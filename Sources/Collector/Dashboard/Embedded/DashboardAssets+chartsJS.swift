// Generated from Dashboard/Assets/charts.js by DashboardAssetsTests. Edit that file, then run
// AGENTLEDGER_REGENERATE_DASHBOARD=1 swift test --filter DashboardAssetsTests

extension DashboardAssets {
    static let chartsJS = DashboardAsset(
        name: "charts.js",
        text: ####"""
            // Small SVG charts: lines over time and horizontal bars. No library; text goes in as text nodes.
            import { el, svg } from './dom.js';

            const palette = ['#2563eb', '#dc2626', '#16a34a', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#4b5563'];

            function niceMax(value) {
              if (!(value > 0)) return 1;
              const power = 10 ** Math.floor(Math.log10(value));
              const step = [1, 2, 2.5, 5, 10].find((s) => s * power >= value);
              return step * power;
            }

            function legend(series) {
              return el('div', { class: 'legend' }, series.map((s, i) => el('span', {},
                el('i', { class: 'swatch', dataset: { color: String(i % palette.length) } }), s.name)));
            }

            /** A line chart of `series` ([{name, points: [[Date, number]]}]) over [from, to]. */
            export function lineChart(title, series, { from, to, format = String, width = 560, height = 220 } = {}) {
              const left = 84;
              const bottom = 24;
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
              const ticks = [0, 0.5, 1].map((f) => {
                const date = new Date(t0 + span * f);
                const label = span > 2 * 86400000 ? date.toLocaleDateString() : date.toLocaleTimeString([], {
                  hour: '2-digit', minute: '2-digit',
                });
                const anchor = f === 0 ? 'start' : f === 1 ? 'end' : 'middle';
                return svg('text', { x: left + plotW * f, y: height - 6, 'text-anchor': anchor }, label);
              });
              const lines = series.map((s, i) => {
                const points = s.points.filter(([, v]) => v !== null && v !== undefined);
                const color = palette[i % palette.length];
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
                legend(series));
            }

            /**
             * Stacked columns over time: `buckets` is [{start: Date, parts: [{name, value}]}], one column per bucket of
             * `bucketMs`, its parts stacked in the order of `names` (the legend).
             */
            export function stackedColumns(title, names, buckets, { from, to, bucketMs, format = String, width = 560, height = 220 } = {}) {
              const left = 84;
              const bottom = 24;
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
              const ticks = [0, 0.5, 1].map((f) => {
                const date = new Date(t0 + span * f);
                const label = span > 2 * 86400000 ? date.toLocaleDateString() : date.toLocaleTimeString([], {
                  hour: '2-digit', minute: '2-digit',
                });
                const anchor = f === 0 ? 'start' : f === 1 ? 'end' : 'middle';
                return svg('text', { x: left + plotW * f, y: height - 6, 'text-anchor': anchor }, label);
              });
              const columnW = Math.max(3, (bucketMs / span) * plotW - 1);
              const columns = buckets.map((bucket) => {
                const start = Math.min(x(bucket.start.getTime()), left + plotW - columnW);
                let base = 0;
                const parts = names.map((name, i) => {
                  const part = bucket.parts.find((p) => p.name === name);
                  if (!part || !(part.value > 0)) return '';
                  const top = y(base + part.value);
                  const rect = svg('rect', {
                    x: start.toFixed(1), y: top.toFixed(1), width: columnW.toFixed(1), height: (y(base) - top).toFixed(1),
                    fill: palette[i % palette.length], dataset: { name },
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
                legend(names.map((name) => ({ name }))));
            }

            /** Horizontal bars: `rows` is [{label, value}], highest first. */
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
                  svg('rect', { x: labelW, y: 2, width: w, height: rowH - 8, fill: palette[i % palette.length] }),
                  svg('text', { x: labelW + w + 6, y: 15 }, format(r.value)));
              });
              const empty = rows.length ? '' : svg('text', { x: 10, y: 20, class: 'empty' }, 'no calls in this range');
              return el('figure', { class: 'chart' }, el('figcaption', {}, title),
                svg('svg', { width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': title }, bars, empty));
            }

            """####)
}
