// The fleet: every sidecar the collectors know (GET /api/fleet), its state and its own figures (STATUS), sortable,
// refreshed every few seconds while shown. A sidecar links to the sessions seen on it.
import { api } from './api.js';
import { card, count, el, hashFor, millis, time } from './dom.js';

const refreshMs = 5000;
const stateOrder = { silent: 0, disconnected: 1, linked: 2 };

function bytes(value) {
  if (value === null || value === undefined) return '—';
  if (value < 1024) return `${value} B`;
  if (value < 1024 * 1024) return `${(value / 1024).toFixed(1)} KiB`;
  return `${(value / 1024 / 1024).toFixed(1)} MiB`;
}

function ago(seconds) {
  if (seconds === null || seconds === undefined) return '—';
  if (seconds < 60) return `${Math.round(seconds)} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86400)} d ago`;
}

function stateBadge(sidecar) {
  const kind = { linked: 'ok', silent: 'blocked', disconnected: 'error' }[sidecar.state] || 'error';
  const title = {
    linked: 'Linked and reporting',
    silent: 'Linked, but nothing heard from it lately: stopped, hung or cut off',
    disconnected: `Link closed at ${time(sidecar.disconnected_at)}`,
  }[sidecar.state];
  return el('span', { class: `badge ${kind}`, title }, sidecar.state);
}

/** Columns: label, how a row sorts, how a cell shows, whether it is a number. */
const columns = [
  ['Sidecar', (s) => s.source, (s) => el('a', { href: hashFor('/', { source: s.source }), class: 'mono',
    title: 'Sessions seen on this sidecar' }, s.source)],
  ['State', (s) => stateOrder[s.state] ?? 9, stateBadge],
  ['Last seen', (s) => -s.seconds_since_seen, (s) => el('span', { title: time(s.last_seen) }, ago(s.seconds_since_seen))],
  ['Linked since', (s) => s.linked_at, (s) => time(s.linked_at)],
  ['Version', (s) => s.software_version, (s) => `${s.software_version} · v${s.protocol_version}`],
  ['Collector', (s) => s.collector_id, (s) => el('span', { class: 'mono', title: s.peer }, s.collector_id)],
  ['Calls/min', (s) => s.calls_per_minute ?? -1, (s) => (s.calls_per_minute === null ? '—' : count(s.calls_per_minute)), true],
  ['Captured', (s) => s.calls_captured ?? -1, (s) => count(s.calls_captured), true],
  ['Queued', (s) => s.calls_queued ?? -1, (s) => count(s.calls_queued), true],
  ['Spool', (s) => s.spool_bytes ?? -1, (s) => bytes(s.spool_bytes), true],
  ['Dropped', (s) => (s.calls_dropped ?? 0) + (s.calls_dropped_unconfirmed ?? 0),
    (s) => {
      const dropped = (s.calls_dropped ?? 0) + (s.calls_dropped_unconfirmed ?? 0);
      if (s.calls_dropped === null || s.calls_dropped === undefined) return '—';
      return dropped > 0 ? el('span', { class: 'error', title: `${count(s.calls_dropped_unconfirmed)} unconfirmed` },
        count(dropped)) : '0';
    }, true],
  ['Upstream errors', (s) => s.upstream_unreachable ?? -1, (s) => count(s.upstream_unreachable), true],
  ['Refused', (s) => s.refused_by_collector ?? -1, (s) => count(s.refused_by_collector), true],
  ['Admission p50 / p99', (s) => s.admission_p99_ms ?? -1,
    (s) => (s.admission_p99_ms === null || s.admission_p99_ms === undefined
      ? '—' : `${millis(s.admission_p50_ms)} / ${millis(s.admission_p99_ms)}`), true],
];

/** The fleet view for `#/fleet?sort=<column>&dir=asc|desc`. */
export function fleetView(params) {
  let sortIndex = Math.max(0, columns.findIndex(([label]) => label === params.get('sort')));
  let ascending = params.get('dir') !== 'desc';
  if (!params.get('sort')) {
    sortIndex = 1;  // state: the silent and disconnected first
    ascending = true;
  }
  let fleet = null;
  const summary = el('div', { class: 'cards', id: 'fleet-summary' });
  const table = el('div', { id: 'fleet-table' }, el('p', { class: 'muted' }, 'Loading…'));
  const node = el('section', { class: 'fleet-view' }, el('h1', {}, 'Fleet'),
    el('p', { class: 'muted' }, 'Every sidecar linked to the collectors, with what it last reported. A sidecar not heard ',
      'from for 40 s shows as silent.'),
    summary, table);

  function render() {
    if (!fleet) return;
    const sidecars = fleet.sidecars;
    const sum = (field) => sidecars.reduce((total, s) => total + (s[field] || 0), 0);
    summary.replaceChildren(
      card('linked', count(fleet.linked), ''),
      card('silent', count(fleet.silent), fleet.silent > 0 ? 'blocked' : ''),
      card('disconnected', count(fleet.disconnected), ''),
      card('calls per minute', count(Math.round(sidecars.filter((s) => s.state === 'linked')
        .reduce((total, s) => total + (s.calls_per_minute || 0), 0)))),
      card('queued', count(sum('calls_queued'))),
      card('dropped', count(sum('calls_dropped') + sum('calls_dropped_unconfirmed')),
        sum('calls_dropped') + sum('calls_dropped_unconfirmed') > 0 ? 'error' : ''));
    if (!sidecars.length) {
      table.replaceChildren(el('p', { class: 'muted', id: 'fleet-empty' },
        'No sidecar has linked yet. Start one with AGENTLEDGER_COLLECTOR pointing at this collector\'s ingest port.'));
      return;
    }
    const [, key] = columns[sortIndex];
    const sorted = [...sidecars].sort((a, b) => {
      const x = key(a);
      const y = key(b);
      const order = x < y ? -1 : x > y ? 1 : a.source < b.source ? -1 : 1;
      return ascending ? order : -order;
    });
    const head = el('tr', {}, columns.map(([label, , , numeric], index) => {
      const sortedHere = index === sortIndex;
      return el('th', {
        class: numeric ? 'num' : '', 'aria-sort': sortedHere ? (ascending ? 'ascending' : 'descending') : 'none',
        scope: 'col',
      }, el('button', {
        type: 'button', class: 'sort', dataset: { column: label },
        on: { click: () => {
          ascending = sortedHere ? !ascending : true;
          sortIndex = index;
          history.replaceState(null, '', hashFor('/fleet', { sort: label, dir: ascending ? 'asc' : 'desc' }));
          render();
          table.querySelector(`button[data-column="${CSS.escape(label)}"]`)?.focus();
        } },
      }, label, sortedHere ? (ascending ? ' ▲' : ' ▼') : ''));
    }));
    const rows = sorted.map((sidecar) => el('tr', { dataset: { source: sidecar.source, state: sidecar.state } },
      columns.map(([, , show, numeric]) => el('td', { class: numeric ? 'num' : '' }, show(sidecar)))));
    table.replaceChildren(el('table', { class: 'grid', id: 'fleet-grid' }, el('thead', {}, head), el('tbody', {}, rows)));
  }

  function load() {
    return api.fleet().then((answer) => {
      fleet = answer;
      render();
    }).catch((error) => {
      table.replaceChildren(el('p', { class: 'error' }, `Could not load the fleet: ${error.detail || error.message}`));
    });
  }

  load();
  const timer = setInterval(() => {
    if (!node.isConnected) {
      clearInterval(timer);
      return;
    }
    load();
  }, refreshMs);
  return { node };
}
