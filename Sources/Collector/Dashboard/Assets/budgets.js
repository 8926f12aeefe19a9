// Budgets and rate limits as the collector enforces them now (GET /api/budgets): each key's spend, reservations and
// headroom, closest to its limit first; a form to change one limit (PUT /api/budgets/..., audited) and the latest
// changes (GET /api/policy/changes).
import { api } from './api.js';
import { count, el, money, time } from './dom.js';

const budgetScopes = ['session', 'agent', 'user', 'app', 'environment', 'model', 'fleet'];
const rateScopes = ['global', 'session', 'agent', 'user', 'model'];

/** A bar for a share of a limit: green below 80%, amber to 100%, red at or past it. */
export function usedBar(fraction) {
  if (fraction === null || fraction === undefined) return el('span', { class: 'muted' }, 'no limit left');
  const percent = Math.max(0, fraction * 100);
  const level = fraction >= 1 ? 'over' : fraction >= 0.8 ? 'near' : 'ok';
  const fill = el('div', { class: 'used-fill' });
  fill.style.width = `${Math.min(percent, 100).toFixed(1)}%`;  // through the CSSOM: the page's CSP allows no style attribute
  return el('div', { class: `used used-${level}`, title: `${percent.toFixed(1)}% used` },
    fill, el('span', { class: 'used-text' }, `${percent.toFixed(1)}%`));
}

function periodText(budget) {
  if (budget.period === 'lifetime') return 'lifetime';
  const ends = budget.period_end ? `, resets ${time(budget.period_end)}` : '';
  return `per ${budget.period}${ends}`;
}

function budgetSection(budget) {
  const every = budget.limit_usd === null ? 'named keys only' : `${money(budget.limit_usd)} each`;
  const named = budget.named_keys ? ` · ${count(budget.named_keys)} named` : '';
  const rows = (budget.keys || []).map((key) => el('tr', { dataset: { key: key.key ?? '' } },
    el('td', {}, key.key === null ? '(fleet)' : key.key),
    el('td', { class: 'num' }, money(key.limit_usd)),
    el('td', { class: 'num' }, money(key.spent_usd)),
    el('td', { class: 'num' }, money(key.reserved_usd)),
    el('td', { class: 'num' }, money(key.remaining_usd)),
    el('td', {}, key.limit_usd === 0 ? usedBar(1) : usedBar(key.used_fraction))));
  const shown = budget.keys_total > rows.length ? ` (closest ${rows.length} of ${count(budget.keys_total)})` : '';
  return el('section', { class: 'budget', dataset: { scope: budget.scope } },
    el('h3', {}, `${budget.scope} budget · ${periodText(budget)} · ${every}${named}${shown}`),
    rows.length
      ? el('table', {},
        el('thead', {}, el('tr', {}, ['key', 'limit', 'spent', 'reserved', 'remaining', 'used'].map((h) => el('th', {}, h)))),
        el('tbody', {}, rows))
      : el('p', { class: 'muted' }, budget.keys === null ? 'Spend per key is read when a key is first seen.' : 'No key has spent yet.'));
}

/** A rate or token limit: `unit` names its fields (`requests` or `tokens`) and `data` the section's attribute. */
function windowSection(limit, unit, data) {
  const limitField = `limit_${unit}`;
  const rows = limit.keys.map((key) => el('tr', {},
    el('td', {}, key.key === null ? '(everything)' : key.key),
    el('td', { class: 'num' }, count(key[limitField])),
    el('td', { class: 'num' }, count(key[unit])),
    el('td', { class: 'num' }, count(key.remaining)),
    el('td', {}, usedBar(key[limitField] > 0 ? key[unit] / key[limitField] : 1))));
  const kind = unit === 'tokens' ? 'token limit' : 'rate limit';
  return el('section', { class: 'budget', dataset: { [data]: limit.scope } },
    el('h3', {}, `${limit.scope} ${kind} · ${limit[limitField] === null ? 'named keys only' : `${count(limit[limitField])} each`}`
      + ` per ${limit.window_seconds} s`),
    rows.length
      ? el('table', {},
        el('thead', {}, el('tr', {}, ['key', 'limit', unit, 'remaining', 'used'].map((h) => el('th', {}, h)))),
        el('tbody', {}, rows))
      : el('p', { class: 'muted' }, `No ${unit === 'tokens' ? 'token' : 'request'} in the current window.`));
}

function changesSection(changes) {
  if (!changes.length) return el('p', { class: 'muted' }, 'No limit has been changed at run time.');
  const limit = (change, value) => {
    if (value === null) return 'none';
    if (change.kind === 'budget') return money(value);
    return change.kind === 'token_limit' ? `${count(value)} tpm` : `${count(value)} rpm`;
  };
  return el('table', { id: 'policy-changes' },
    el('thead', {}, el('tr', {}, ['when', 'who', 'limit', 'before', 'after'].map((h) => el('th', {}, h)))),
    el('tbody', {}, changes.map((change) => el('tr', {},
      el('td', {}, time(change.changed_at)),
      el('td', {}, change.actor),
      el('td', {}, `${change.kind.replace('_', ' ')} ${change.scope}/${change.key}`
        + (change.action === 'removed' ? ' (back to configured)' : '')),
      el('td', { class: 'num' }, limit(change, change.before)),
      el('td', { class: 'num' }, limit(change, change.after))))));
}

/** The form that sets one limit; `done` runs after a change is stored. */
function limitForm(done) {
  const kind = el('select', { name: 'kind', 'aria-label': 'Kind' },
    el('option', { value: 'budget' }, 'budget (USD)'), el('option', { value: 'rate' }, 'rate limit (requests/min)'),
    el('option', { value: 'tokens' }, 'token limit (tokens/min)'));
  const scope = el('select', { name: 'scope', 'aria-label': 'Scope' });
  const fillScopes = () => scope.replaceChildren(...(kind.value === 'budget' ? budgetScopes : rateScopes)
    .map((name) => el('option', { value: name }, name)));
  fillScopes();
  kind.addEventListener('change', fillScopes);
  const key = el('input', { name: 'key', value: '*', 'aria-label': 'Key', size: 18, required: true });
  const value = el('input', { name: 'value', type: 'number', min: 0, step: 'any', 'aria-label': 'Limit', required: true });
  const message = el('span', { class: 'muted', id: 'limit-message' });
  const form = el('form', { id: 'limit-form', class: 'filters' },
    el('label', {}, 'kind', kind), el('label', {}, 'scope', scope), el('label', {}, 'key (* for every key)', key),
    el('label', {}, 'limit', value), el('button', { type: 'submit' }, 'Set limit'), message);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      const change = await api.setLimit(kind.value, scope.value, key.value.trim(), Number(value.value));
      message.className = 'muted';
      message.textContent = `Set: ${change.scope}/${change.key} is now ${change.kind === 'budget' ? money(change.after) : count(change.after)}.`;
      done();
    } catch (error) {
      message.className = 'error';
      message.textContent = error.detail || error.message;
    }
  });
  return form;
}

export function budgetsView() {
  const content = el('div', { id: 'budgets' }, el('p', { class: 'muted' }, 'Loading…'));
  const changes = el('div', { id: 'changes' });
  let loading = null;
  let again = false;
  const load = () => {
    if (loading) {
      again = true;
      return loading;
    }
    loading = Promise.all([api.budgets(), api.policyChanges()]).then(([report, trail]) => {
      const sections = [...report.budgets.map(budgetSection),
        ...(report.rate_limits || []).map((limit) => windowSection(limit, 'requests', 'rate')),
        ...(report.token_limits || []).map((limit) => windowSection(limit, 'tokens', 'tokens'))];
      content.replaceChildren(
        el('p', { class: 'muted' }, `Admission mode ${report.admission_mode}; periods begin in ${report.time_zone}. `
          + 'Spend and reservations as admission sees them now, closest to the limit first.'),
        ...(sections.length ? sections : [el('p', { class: 'muted' }, 'No budget or rate limit is set.')]));
      changes.replaceChildren(changesSection(trail));
    }).catch((error) => {
      content.replaceChildren(el('p', { class: 'error' }, `Budgets unavailable: ${error.detail || error.message}`));
    }).finally(() => {
      loading = null;
      if (again) {
        again = false;
        setTimeout(load, 1000);
      }
    });
    return loading;
  };
  load();
  const node = el('div', { class: 'budgets-view' },
    el('h2', {}, 'Budgets and rate limits'), content,
    el('h3', {}, 'Change a limit'), limitForm(load),
    el('h3', {}, 'Recent changes'), changes);
  // New calls change spend: refresh at most once a second while they arrive.
  return { node, onCall: () => load() };
}
