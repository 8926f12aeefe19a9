// Costs: spend over a chosen range by agent, user, app, model and environment (GET /api/spend), each total saying how
// many of its calls had no known price; and the budgets closest to their limits (GET /api/budgets).
import { api } from './api.js';
import { usedBar } from './budgets.js';
import { barChart } from './charts.js';
import { card, count, el, hashFor, money, moneyWithUnpriced } from './dom.js';

const ranges = {
  '24h': { label: 'Last 24 hours', ms: 86400e3 },
  '7d': { label: 'Last 7 days', ms: 7 * 86400e3 },
  '30d': { label: 'Last 30 days', ms: 30 * 86400e3 },
  '90d': { label: 'Last 90 days', ms: 90 * 86400e3 },
};
const dimensions = [
  ['agent', 'Agent', '(no agent)'], ['user', 'User', '(no user)'], ['app', 'App', '(no app)'],
  ['model', 'Model', '(no model)'], ['environment', 'Environment', '(no environment)'],
];

/** A date-time input's value (local time) for a Date, and back. */
function localInput(date) {
  const pad = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:`
    + `${pad(date.getMinutes())}`;
}

function breakdown(answer, [dimension, label, none]) {
  const rows = answer.groups.map((group) => ({
    label: group.key ?? none, value: group.spend_usd,
    note: `${count(group.calls)} calls${group.unpriced_calls ? `, +${group.unpriced_calls} unpriced` : ''}`,
  }));
  const more = answer.groups_total > rows.length ? ` (top ${rows.length} of ${count(answer.groups_total)})` : '';
  return el('section', { class: 'cost-panel', dataset: { dimension } },
    barChart(`Spend by ${label.toLowerCase()}${more}`, rows, { format: money, width: 620 }),
    el('p', { class: 'muted' }, 'Total ', moneyWithUnpriced(answer.total_usd, answer.unpriced_calls),
      ` over ${count(answer.calls)} calls`));
}

function budgetsPanel(report) {
  const keys = [];
  for (const budget of report.budgets || []) {
    for (const key of budget.keys || []) keys.push({ budget, key });
  }
  keys.sort((a, b) => (b.key.used_fraction ?? 0) - (a.key.used_fraction ?? 0));
  if (!keys.length) {
    return el('p', { class: 'muted', id: 'cost-budgets' }, 'No budget is set. ', el('a', { href: '#/budgets' }, 'Set one'), '.');
  }
  return el('table', { class: 'grid', id: 'cost-budgets' },
    el('thead', {}, el('tr', {}, ['Budget', 'Key', 'Limit', 'Spent', 'Reserved', 'Used'].map((h) => el('th', {}, h)))),
    el('tbody', {}, keys.slice(0, 10).map(({ budget, key }) => el('tr', {},
      el('td', {}, `${budget.scope} · ${budget.period}`), el('td', {}, key.key ?? '(fleet)'),
      el('td', { class: 'num' }, money(key.limit_usd)), el('td', { class: 'num' }, money(key.spent_usd)),
      el('td', { class: 'num' }, money(key.reserved_usd)), el('td', {}, usedBar(key.used_fraction))))));
}

/** The Costs view for `#/costs?range=24h|7d|30d|90d` or `?since=…&until=…` (local date-times). */
export function costsView(params) {
  const custom = params.get('since') || params.get('until');
  const key = ranges[params.get('range')] ? params.get('range') : '7d';
  const until = custom && params.get('until') ? new Date(params.get('until')) : new Date();
  const since = custom && params.get('since') ? new Date(params.get('since')) : new Date(until.getTime() - ranges[key].ms);
  const picker = el('nav', { class: 'tabs' }, Object.entries(ranges).map(([name, r]) => el('a', {
    href: hashFor('/costs', { range: name }), class: `tab${!custom && name === key ? ' active' : ''}`,
  }, r.label)));
  const form = el('form', { class: 'filters', id: 'cost-range' },
    el('label', {}, 'From', el('input', { type: 'datetime-local', name: 'since', value: localInput(since) })),
    el('label', {}, 'To', el('input', { type: 'datetime-local', name: 'until', value: localInput(until) })),
    el('button', { type: 'submit' }, 'Show'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = new FormData(form);
    location.hash = hashFor('/costs', { since: String(data.get('since') || ''), until: String(data.get('until') || '') });
  });
  const total = el('div', { class: 'cards', id: 'cost-total' });
  const panels = el('div', { class: 'chart-grid', id: 'cost-panels' }, el('p', { class: 'muted' }, 'Loading…'));
  const budgets = el('div', {}, el('p', { class: 'muted' }, 'Loading…'));
  const node = el('section', { class: 'costs' }, el('h1', {}, 'Costs'), picker, form, total, panels,
    el('h2', {}, 'Budgets closest to their limits'), budgets);

  const range = { since: since.toISOString(), until: until.toISOString() };
  Promise.all(dimensions.map(([dimension]) => api.spend({ ...range, group_by: dimension, limit: 12 })))
    .then((answers) => {
      const first = answers[0];
      total.replaceChildren(
        card('spend in range', moneyWithUnpriced(first.total_usd, first.unpriced_calls)),
        card('calls', count(first.calls)),
        card('calls with no known price', count(first.unpriced_calls), first.unpriced_calls ? 'blocked' : ''));
      panels.replaceChildren(...answers.map((answer, i) => breakdown(answer, dimensions[i])));
    })
    .catch((error) => {
      panels.replaceChildren(el('p', { class: 'error' }, `Could not load spend: ${error.detail || error.message}`));
    });
  api.budgets().then((report) => budgets.replaceChildren(budgetsPanel(report))).catch((error) => {
    budgets.replaceChildren(el('p', { class: 'error' }, `Could not load budgets: ${error.detail || error.message}`));
  });
  return { node };
}
