// Generated from Dashboard/Assets/overview.js by DashboardAssetsTests. Edit that file, then run
// AGENTLEDGER_REGENERATE_DASHBOARD=1 swift test --filter DashboardAssetsTests

extension DashboardAssets {
    static let overviewJS = DashboardAsset(
        name: "overview.js",
        text: ####"""
            // Overview: spend, calls, errors and latency over time, and spend by model and by agent, from /api/stats.
            import { api } from './api.js';
            import { barChart, lineChart } from './charts.js';
            import { count, el, hashFor, millis, money } from './dom.js';

            const ranges = {
              '1h': { label: 'Last hour', ms: 3600e3, bucket: 'minute' },
              '24h': { label: 'Last 24 hours', ms: 86400e3, bucket: 'hour' },
              '7d': { label: 'Last 7 days', ms: 7 * 86400e3, bucket: 'hour' },
              '30d': { label: 'Last 30 days', ms: 30 * 86400e3, bucket: 'day' },
            };

            function card(label, value) {
              return el('div', { class: 'card' }, el('div', { class: 'card-value' }, value), label);
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
                const series = (name, field) => ({ name, points: stats.buckets.map((b) => [at(b), b[field]]) });
                const options = { from: since, to: until };
                const t = stats.totals;
                const groups = (rows, field, none) => rows.map((r) => ({ label: r[field] || none, value: r.spend_usd }));
                content.replaceChildren(
                  el('div', { class: 'cards' }, card('spend', money(t.spend_usd)), card('calls', count(t.calls)),
                    card('errors', count(t.errors)), card('blocked', count(t.blocked)),
                    card('tokens in / out', `${count(t.tokens_in)} / ${count(t.tokens_out)}`),
                    card('latency p50 / p95 / p99',
                      `${millis(t.latency_p50_ms)} / ${millis(t.latency_p95_ms)} / ${millis(t.latency_p99_ms)}`)),
                  el('div', { class: 'chart-grid' },
                    lineChart('Spend over time (USD)', [series('spend', 'spend_usd')], { ...options, format: money }),
                    lineChart('Calls and errors', [series('calls', 'calls'), series('errors', 'errors'),
                      series('blocked', 'blocked')], { ...options, format: (v) => count(Math.round(v * 10) / 10) }),
                    lineChart('Latency percentiles', [series('p50', 'latency_p50_ms'), series('p95', 'latency_p95_ms'),
                      series('p99', 'latency_p99_ms')], { ...options, format: millis }),
                    barChart('Spend by model', groups(stats.by_model, 'model_id', '(no model)'), { format: money }),
                    barChart('Spend by agent', groups(stats.by_agent, 'agent_name', '(no agent)'), { format: money })));
              }).catch((error) => {
                content.replaceChildren(el('p', { class: 'error' }, `Could not load stats: ${error.detail || error.message}`));
              });
              return { node };
            }

            """####)
}
