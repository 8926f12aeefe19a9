// Overview: spend, calls, errors and latency over time, and spend by model and by agent, from /api/stats.
import { api } from './api.js';
import { barChart, blockedColor, errorColor, lineChart, stackedColumns } from './charts.js';
import { card, count, el, hashFor, millis, money, moneyWithUnpriced } from './dom.js';

const ranges = {
  '1h': { label: 'Last hour', ms: 3600e3, bucket: 'minute' },
  '24h': { label: 'Last 24 hours', ms: 86400e3, bucket: 'hour' },
  '7d': { label: 'Last 7 days', ms: 7 * 86400e3, bucket: 'hour' },
  '30d': { label: 'Last 30 days', ms: 30 * 86400e3, bucket: 'day' },
};
const bucketMs = { minute: 60e3, hour: 3600e3, day: 86400e3 };

/** Each bucket's spend split by the models the API lists for it, the rest as "other models". */
function spendByModel(stats) {
  const label = (model) => model ?? '(no model)';
  const names = [];
  const buckets = stats.buckets.map((b) => {
    const listed = b.spend_by_model || [];
    const parts = listed.map((share) => ({ name: label(share.model_id), value: share.spend_usd }));
    const rest = b.spend_usd - listed.reduce((sum, share) => sum + share.spend_usd, 0);
    if (rest > 1e-12) parts.push({ name: 'other models', value: rest });
    for (const part of parts) if (!names.includes(part.name)) names.push(part.name);
    return { start: new Date(b.start), parts };
  });
  const order = stats.by_model.map((g) => label(g.model_id));
  names.sort((a, b) => (order.indexOf(a) >>> 0) - (order.indexOf(b) >>> 0));
  return { names, buckets };
}

export function overviewView(params) {
  const key = ranges[params.get('range')] ? params.get('range') : '24h';
  const range = ranges[key];
  const until = new Date();
  const since = new Date(until.getTime() - range.ms);
  const content = el('div', { class: 'charts', id: 'overview-charts' }, el('p', { class: 'muted' }, 'Loading…'));
  const picker = el('nav', { class: 'tabs' }, Object.entries(ranges).map(([name, r]) => el('a', {
    href: hashFor('/overview', { range: name }), class: `tab${name === key ? ' active' : ''}`,
  }, r.label)));
  const node = el('section', { class: 'overview' }, el('h1', {}, 'Overview'), picker, content);

  api.stats({ since: since.toISOString(), until: until.toISOString(), bucket: range.bucket }).then((stats) => {
    const at = (b) => new Date(b.start);
    const series = (name, field, color) => ({ name, color, points: stats.buckets.map((b) => [at(b), b[field]]) });
    const options = { from: since, to: until };
    const t = stats.totals;
    const spend = spendByModel(stats);
    const groups = (rows, field, none) => rows.map((r) => ({ label: r[field] || none, value: r.spend_usd }));
    content.replaceChildren(
      el('div', { class: 'cards' }, card('spend', moneyWithUnpriced(t.spend_usd, t.unpriced_calls)), card('calls', count(t.calls)),
        card('errors', count(t.errors)), card('blocked', count(t.blocked)),
        card('tokens in / out', `${count(t.tokens_in)} / ${count(t.tokens_out)}`),
        card('latency p50 / p95 / p99',
          `${millis(t.latency_p50_ms)} / ${millis(t.latency_p95_ms)} / ${millis(t.latency_p99_ms)}`)),
      el('div', { class: 'chart-grid' },
        stackedColumns('Spend over time by model (USD)', spend.names, spend.buckets,
          { ...options, bucketMs: bucketMs[range.bucket], format: money }),
        lineChart('Calls and errors', [series('calls', 'calls', '#2563eb'), series('errors', 'errors', errorColor),
          series('blocked', 'blocked', blockedColor)], { ...options, format: (v) => count(Math.round(v * 10) / 10) }),
        lineChart('Latency percentiles', [series('p50', 'latency_p50_ms', '#93c5fd'),
          series('p95', 'latency_p95_ms', '#3b82f6'), series('p99', 'latency_p99_ms', '#1e3a8a')],
        { ...options, format: millis }),
        barChart('Spend by model', groups(stats.by_model, 'model_id', '(no model)'), { format: money }),
        barChart('Spend by agent', groups(stats.by_agent, 'agent_name', '(no agent)'), { format: money })));
  }).catch((error) => {
    content.replaceChildren(el('p', { class: 'error' }, `Could not load stats: ${error.detail || error.message}`));
  });
  return { node };
}
