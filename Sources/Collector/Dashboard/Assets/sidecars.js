// The fleet: every sidecar the collectors know (GET /api/fleet), its state and its own figures (STATUS), sortable and
// filtered, refreshed every few seconds while shown. A sidecar links to the sessions seen on it.
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
    title: `${s.source}: the sessions seen on this sidecar` }, s.source)],
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

/** Rows drawn above and below those in view, so scrolling a little and tabbing through links find rows ready. */
const overscan = 10;

/** Whether a sidecar matches the filter: words found in its source, state, version or collector, all of them. */
function matches(sidecar, words) {
  if (!words.length) return true;
  const text = `${sidecar.source} ${sidecar.state} ${sidecar.software_version} ${sidecar.collector_id}`.toLowerCase();
  return words.every((word) => text.includes(word));
}

/**
 * The fleet view for `#/fleet?sort=<column>&dir=asc|desc&q=<filter>`.
 *
 * The table draws only the rows in view (and `overscan` either side) between two spacer rows that keep the scroll
 * height of the whole fleet: a table of 1,000 sidecars (14,000 cells) took the browser 350 ms of style, layout and
 * paint on each refresh; the window takes a few, whatever the fleet's size (Benchmarks/views_bench.py). Rows have one
 * height (app.css) and the columns a fixed layout, so rows scrolled in do not move the columns.
 */
export function fleetView(params) {
  let sortIndex = Math.max(0, columns.findIndex(([label]) => label === params.get('sort')));
  let ascending = params.get('dir') !== 'desc';
  if (!params.get('sort')) {
    sortIndex = 1;  // state: the silent and disconnected first
    ascending = true;
  }
  let filter = params.get('q') || '';
  let fleet = null;
  let shown = [];  // the sidecars that match the filter, sorted
  let drawn = null;  // [first, last) of `shown` in the table's body
  let rowHeight = 33;  // measured once a row is drawn
  const summary = el('div', { class: 'cards', id: 'fleet-summary' });
  const shownCount = el('span', { class: 'muted', id: 'fleet-count', 'aria-live': 'polite' });
  const filterInput = el('input', {
    type: 'search', id: 'fleet-filter', value: filter, placeholder: 'pod, state, version or collector',
    'aria-label': 'Filter sidecars', on: { input: () => {
      filter = filterInput.value;
      history.replaceState(null, '', hashFor('/fleet', query()));
      scroller.scrollTop = 0;
      render();
    } },
  });
  const body = el('tbody');
  const head = el('thead');
  const grid = el('table', { class: 'grid', id: 'fleet-grid' },
    el('colgroup', {}, columns.map(() => el('col'))), head, body);
  const scroller = el('div', { id: 'fleet-table', tabindex: '0', 'aria-label': 'Sidecars' },
    el('p', { class: 'muted' }, 'Loading…'));
  const node = el('section', { class: 'fleet-view' }, el('h1', {}, 'Fleet'),
    el('p', { class: 'muted' }, 'Every sidecar linked to the collectors, with what it last reported. A sidecar not heard ',
      'from for 40 s shows as silent.'),
    summary, el('div', { class: 'filters' }, el('label', {}, 'Filter', filterInput), shownCount), scroller);

  function query() {
    const [label] = columns[sortIndex];
    return { sort: label, dir: ascending ? 'asc' : 'desc', q: filter || null };
  }

  function headRow() {
    return el('tr', { 'aria-rowindex': 1 }, columns.map(([label, , , numeric], index) => {
      const sortedHere = index === sortIndex;
      return el('th', {
        class: numeric ? 'num' : '', 'aria-sort': sortedHere ? (ascending ? 'ascending' : 'descending') : 'none',
        scope: 'col',
      }, el('button', {
        type: 'button', class: 'sort', dataset: { column: label },
        on: { click: () => {
          ascending = sortedHere ? !ascending : true;
          sortIndex = index;
          history.replaceState(null, '', hashFor('/fleet', query()));
          scroller.scrollTop = 0;
          render();
          head.querySelector(`button[data-column="${CSS.escape(label)}"]`)?.focus();
        } },
      }, label, sortedHere ? (ascending ? ' ▲' : ' ▼') : ''));
    }));
  }

  function spacer(height, where) {
    const cell = el('td', { colspan: columns.length });
    cell.style.height = `${height}px`;  // through the CSSOM: the page's policy refuses style attributes
    return el('tr', { class: 'spacer', 'aria-hidden': 'true', dataset: { spacer: where } }, cell);
  }

  /** The rows of `shown` in view, drawn unless the same ones already are (`force` after new data). */
  function drawRows(force) {
    const top = Math.max(0, scroller.scrollTop - head.offsetHeight);
    const height = scroller.clientHeight || window.innerHeight;
    const inView = Math.ceil(height / rowHeight);
    // A scroll position left from a longer list (the filter narrowed it) is clamped to this one's end.
    const first = Math.max(0, Math.min(Math.floor(top / rowHeight), shown.length - inView) - overscan);
    const last = Math.min(shown.length, first + overscan + inView + overscan);
    if (!force && drawn && drawn[0] === first && drawn[1] === last) return;
    drawn = [first, last];
    const rows = [];
    for (let index = first; index < last; index++) {
      const sidecar = shown[index];
      rows.push(el('tr', { 'aria-rowindex': index + 2, dataset: { source: sidecar.source, state: sidecar.state } },
        columns.map(([, , show, numeric]) => el('td', { class: numeric ? 'num' : '' }, show(sidecar)))));
    }
    body.replaceChildren(spacer(first * rowHeight, 'above'), ...rows, spacer((shown.length - last) * rowHeight, 'below'));
  }

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
      shownCount.textContent = '';
      scroller.replaceChildren(el('p', { class: 'muted', id: 'fleet-empty' },
        'No sidecar has linked yet. Start one with AGENTLEDGER_COLLECTOR pointing at this collector\'s ingest port.'));
      return;
    }
    const words = filter.toLowerCase().split(/\s+/).filter(Boolean);
    const [, key] = columns[sortIndex];
    shown = sidecars.filter((sidecar) => matches(sidecar, words)).sort((a, b) => {
      const x = key(a);
      const y = key(b);
      const order = x < y ? -1 : x > y ? 1 : a.source < b.source ? -1 : 1;
      return ascending ? order : -order;
    });
    shownCount.textContent = words.length ? `${count(shown.length)} of ${count(sidecars.length)} sidecars`
      : `${count(sidecars.length)} sidecars`;
    head.replaceChildren(headRow());
    grid.setAttribute('aria-rowcount', shown.length + 1);
    if (grid.parentNode !== scroller) scroller.replaceChildren(grid);
    drawRows(true);
    const measured = body.querySelector('tr[data-source]')?.getBoundingClientRect().height;
    if (measured && Math.abs(measured - rowHeight) > 0.5) {
      rowHeight = measured;
      drawRows(true);
    }
  }

  let pending = false;
  scroller.addEventListener('scroll', () => {
    if (pending || !fleet) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      drawRows(false);
    });
  });

  function load() {
    return api.fleet().then((answer) => {
      fleet = answer;
      render();
    }).catch((error) => {
      scroller.replaceChildren(el('p', { class: 'error' }, `Could not load the fleet: ${error.detail || error.message}`));
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
