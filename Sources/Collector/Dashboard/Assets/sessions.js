// The sessions list: newest first, filters and paging in the URL, rows updated in place by the live feed.
import { api } from './api.js';
import { callState, count, el, hashFor, millis, money, moneyWithUnpriced, sessionHash, span, time } from './dom.js';
import { fleetStrip } from './fleet.js';

const pageSize = 50;
const maxSources = 16;
const filterFields = [
  ['agent', 'Agent'], ['user', 'User'], ['app', 'App'], ['environment', 'Environment'], ['source', 'Sidecar'],
  ['since', 'Since'], ['until', 'Until'],
];

function filtersFrom(params) {
  const filters = {};
  for (const [name] of filterFields) filters[name] = params.get(name) || '';
  return filters;
}

function filterForm(filters) {
  const inputs = filterFields.map(([name, label]) => el('label', {},
    label,
    el('input', {
      name, value: filters[name], type: name === 'since' || name === 'until' ? 'datetime-local' : 'text',
      placeholder: label.toLowerCase(),
    })));
  const form = el('form', { class: 'filters', id: 'session-filters' }, inputs,
    el('button', { type: 'submit' }, 'Filter'),
    el('a', { href: '#/', class: 'button-link' }, 'Clear'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const params = {};
    for (const [name] of filterFields) {
      const value = String(data.get(name) || '').trim();
      if (value) params[name] = value;
    }
    location.hash = hashFor('/', params);
  });
  return form;
}

/** Whether a new session started by `record` belongs in a list shown with `filters`. */
function matches(record, filters) {
  const pairs = [['agent', 'agent_name'], ['user', 'user_id'], ['app', 'app_id'], ['environment', 'environment'],
    ['source', 'source']];
  for (const [filter, field] of pairs) {
    if (filters[filter] && record[field] !== filters[filter]) return false;
  }
  return !filters.until;
}

function sourcesOf(session) {
  if (Array.isArray(session.sources)) return session.sources;
  return session.source ? [session.source] : [];
}

function row(session) {
  const duration = span(session.started_at, session.ended_at);
  const badge = (value, kind) => (value > 0 ? el('span', { class: `badge ${kind}` }, String(value)) : '0');
  return el('tr', { dataset: { session: session.session_id } },
    el('td', {}, el('a', { href: sessionHash(session.session_id), class: 'mono' }, session.session_id)),
    el('td', {}, time(session.started_at)),
    el('td', {}, session.agent_name || '—'),
    el('td', {}, session.user_id || '—'),
    el('td', {}, session.environment || '—'),
    el('td', {}, session.model_id || '—'),
    el('td', { class: 'num' }, count(session.call_count)),
    el('td', { class: 'num' }, moneyWithUnpriced(session.total_cost_usd, session.unpriced_calls)),
    el('td', { class: 'num' }, badge(session.error_count, 'error')),
    el('td', { class: 'num' }, badge(session.blocked_count, 'blocked')),
    el('td', { class: 'num' }, millis(duration)),
    el('td', { class: 'num' }, `${count(session.total_tokens_in)} / ${count(session.total_tokens_out)}`),
    el('td', { class: 'sources' }, sourcesOf(session).join(', ') || '—'));
}

/** Folds a live call into a session aggregate, as the store does. */
function fold(session, record) {
  const end = new Date(Date.parse(record.timestamp) + (record.latency_ms || 0)).toISOString();
  const state = callState(record);
  const sources = new Set(sourcesOf(session));
  if (record.source) sources.add(record.source);
  return {
    ...session,
    call_count: (session.call_count || 0) + 1,
    started_at: session.started_at && session.started_at < record.timestamp ? session.started_at : record.timestamp,
    ended_at: session.ended_at && session.ended_at > end ? session.ended_at : end,
    total_latency_ms: (session.total_latency_ms || 0) + (record.latency_ms || 0),
    total_tokens_in: (session.total_tokens_in || 0) + (record.tokens_in || 0),
    total_tokens_out: (session.total_tokens_out || 0) + (record.tokens_out || 0),
    total_cost_usd: (session.total_cost_usd || 0) + (record.blocked ? 0 : record.cost_usd || 0),
    unpriced_calls: (session.unpriced_calls || 0)
      + (!record.blocked && record.cost_usd === null && record.model_id && record.tokens_in !== null ? 1 : 0),
    error_count: (session.error_count || 0) + (state === 'error' ? 1 : 0),
    blocked_count: (session.blocked_count || 0) + (state === 'blocked' ? 1 : 0),
    model_id: record.model_id ?? session.model_id ?? null,
    agent_name: record.agent_name ?? session.agent_name ?? null,
    user_id: record.user_id ?? session.user_id ?? null,
    environment: record.environment ?? session.environment ?? null,
    sources: [...sources].slice(0, maxSources),
  };
}

/** The sessions view for the hash's query; `onCall` keeps it current without reloading the list. */
export function sessionsView(params) {
  const filters = filtersFrom(params);
  const offset = Math.max(0, Number(params.get('offset')) || 0);
  const rows = new Map();
  const body = el('tbody');
  const summary = el('p', { class: 'muted', id: 'session-count' }, 'Loading…');
  const pager = el('div', { class: 'pager' });
  let total = 0;
  const headers = ['Session', 'Started', 'Agent', 'User', 'Env', 'Model', 'Calls', 'Cost', 'Errors', 'Blocked',
    'Duration', 'Tokens in / out', 'Source(s)'];
  const node = el('section', { class: 'sessions' },
    fleetStrip(),
    el('h1', {}, 'Sessions'),
    filterForm(filters),
    summary,
    el('table', { class: 'grid', id: 'sessions-table' },
      el('thead', {}, el('tr', {}, headers.map((text) => el('th', {}, text)))), body),
    pager);

  function showTotal() {
    summary.textContent = total === 0 ? 'No sessions yet.'
      : `${count(total)} session${total === 1 ? '' : 's'}; showing ${offset + 1}–${offset + rows.size}`;
    const link = (label, to) => el('a', {
      href: hashFor('/', { ...filters, offset: to || '' }), class: 'button-link',
    }, label);
    pager.replaceChildren(
      offset > 0 ? link('← Newer', Math.max(0, offset - pageSize)) : '',
      offset + pageSize < total ? link('Older →', offset + pageSize) : '');
  }

  const since = filters.since ? new Date(filters.since).toISOString() : '';
  const until = filters.until ? new Date(filters.until).toISOString() : '';
  api.sessions({ ...filters, since, until, limit: pageSize, offset }).then(({ body: sessions, headers: h }) => {
    total = Number(h.get('x-total-count')) || sessions.length;
    for (const session of sessions) {
      const tr = row(session);
      rows.set(session.session_id, { session, tr });
      body.append(tr);
    }
    showTotal();
  }).catch((error) => {
    summary.textContent = `Could not load sessions: ${error.message}`;
  });

  function onCall(record) {
    if (!record.session_id) return;
    const known = rows.get(record.session_id);
    if (known) {
      known.session = fold(known.session, record);
      const tr = row(known.session);
      tr.classList.add('flash');
      known.tr.replaceWith(tr);
      known.tr = tr;
      return;
    }
    if (offset !== 0 || !matches(record, filters)) return;
    const session = fold({ session_id: record.session_id }, record);
    const tr = row(session);
    tr.classList.add('flash');
    rows.set(record.session_id, { session, tr });
    body.prepend(tr);
    total += 1;
    showTotal();
  }

  return { node, onCall };
}
