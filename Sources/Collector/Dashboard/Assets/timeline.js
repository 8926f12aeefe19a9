// The Timeline tab: a waterfall of the session's calls by start and end, grouped by agent; handoffs and tool results
// linked to the calls they came from; cost and tokens on each bar; errors red, refusals amber. Choosing a bar (click,
// or Enter on it) shows that call once below, long text folded and history already shown in an earlier call
// collapsed to "same as call N".
import { blockedColor, colorFor, errorColor } from './charts.js';
import { agentOf, callState, count, el, messageText, millis, money, prettyJSON, statusBadge, svg, time } from './dom.js';

const rowH = 22;
const groupGap = 14;
const left = 150;
const right = 250;
const foldAt = 600;

/** Rows of the waterfall: agents in order of their first call, each agent's calls in order of start. */
export function timelineLayout(calls) {
  const starts = calls.map((c) => Date.parse(c.timestamp));
  const ends = calls.map((c, i) => starts[i] + Math.max(0, c.latency_ms || 0));
  const t0 = Math.min(...starts);
  const t1 = Math.max(t0 + 1, ...ends);
  const agents = [];
  for (const call of calls) if (!agents.includes(agentOf(call))) agents.push(agentOf(call));
  const rows = [];
  let y = 24;
  const groups = agents.map((agent) => {
    const top = y;
    const members = calls.map((call, i) => ({ call, index: i + 1, start: starts[i], end: ends[i] }))
      .filter((row) => agentOf(row.call) === agent)
      .sort((a, b) => a.start - b.start || a.index - b.index);
    for (const row of members) {
      rows.push({ ...row, y });
      y += rowH;
    }
    y += groupGap;
    return { agent, top, bottom: y - groupGap };
  });
  return { t0, t1, rows, groups, height: y + 10 };
}

/** Links between rows: a handoff to a call from the last call of the agent handing off before it started; a tool
 * result from the call that asked for it; a child from its parent. */
function links(layout) {
  const byAction = new Map(layout.rows.map((row) => [row.call.action_id, row]));
  const byToolCall = new Map();
  for (const row of layout.rows) for (const tc of row.call.tool_calls || []) if (tc.id) byToolCall.set(tc.id, row);
  const found = [];
  for (const row of layout.rows) {
    const call = row.call;
    if (call.handoff_from && call.handoff_from !== agentOf(call)) {
      const from = layout.rows.filter((r) => agentOf(r.call) === call.handoff_from && r.start <= row.start)
        .sort((a, b) => b.start - a.start)[0];
      if (from) found.push({ from, to: row, kind: 'handoff' });
    }
    for (const result of call.tool_results || []) {
      const from = byAction.get(result.requested_by) || byToolCall.get(result.tool_call_id);
      if (from && from !== row) found.push({ from, to: row, kind: 'tool' });
    }
    const parent = call.parent_action_id && byAction.get(call.parent_action_id);
    if (parent && parent !== row) found.push({ from: parent, to: row, kind: 'parent' });
  }
  return found;
}

function barLabel(row) {
  const call = row.call;
  const tokens = `${count(call.tokens_in)}→${count(call.tokens_out)} tok`;
  const state = callState(call);
  const what = state === 'blocked' ? 'refused' : state === 'error' ? `error ${call.status_code ?? call.outcome ?? ''}` : money(call.cost_usd);
  return `#${row.index} ${call.model_id || '—'} · ${what} · ${tokens} · ${millis(call.latency_ms)}`;
}

function scaleLabel(ms) {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 120000) return `${(ms / 1000).toFixed(ms < 10000 ? 1 : 0)} s`;
  return `${(ms / 60000).toFixed(1)} min`;
}

/** A bar's label right of it, or left of it when it would run past the chart's edge. */
function labelNear(text, x0, w, y, width) {
  const estimated = text.length * 6.4;
  if (x0 + w + 6 + estimated <= width) return svg('text', { x: x0 + w + 6, y, class: 'bar-label' }, text);
  return svg('text', { x: Math.max(4, x0 - 6), y, class: 'bar-label', 'text-anchor': 'end' }, text);
}

/** The waterfall as SVG; `choose(actionId)` is called when a bar is chosen. */
function waterfall(calls, chosen, choose) {
  const layout = timelineLayout(calls);
  const width = 1180;
  const plotW = width - left - right;
  const span = layout.t1 - layout.t0;
  const x = (ms) => left + ((ms - layout.t0) / span) * plotW;
  const axis = [0, 0.25, 0.5, 0.75, 1].map((f) => svg('g', { class: 'tick' },
    svg('line', { x1: left + plotW * f, x2: left + plotW * f, y1: 16, y2: layout.height - 6 }),
    svg('text', { x: left + plotW * f, y: 12, 'text-anchor': f === 0 ? 'start' : f === 1 ? 'end' : 'middle' },
      f === 0 ? time(new Date(layout.t0).toISOString()) : `+${scaleLabel(span * f)}`)));
  const groups = layout.groups.map((group) => svg('g', { class: 'lane' },
    svg('rect', { x: 0, y: group.top - 3, width, height: group.bottom - group.top + 6, class: 'lane-bg' }),
    svg('text', { x: 8, y: group.top + 15, class: 'lane-name' }, group.agent)));
  const arrows = links(layout).map(({ from, to, kind }) => {
    const x1 = x(Math.min(from.end, to.start));
    const y1 = from.y + rowH / 2;
    const x2 = x(to.start);
    const y2 = to.y + rowH / 2;
    const bend = Math.max(12, Math.abs(x2 - x1) / 2);
    return svg('path', {
      class: `link link-${kind}`, d: `M${x1},${y1} C${x1 + bend},${y1} ${x2 - bend},${y2} ${x2},${y2}`,
      'marker-end': 'url(#arrow)',
    }, svg('title', {}, `${kind === 'tool' ? 'tool result for' : kind === 'handoff' ? 'handoff after' : 'child of'} #${from.index}`));
  });
  const bars = layout.rows.map((row) => {
    const state = callState(row.call);
    const x0 = x(row.start);
    const w = Math.max(3, x(row.end) - x0);
    const fill = state === 'error' ? errorColor : state === 'blocked' ? blockedColor : colorFor(row.call.model_id || '');
    const bar = svg('g', {
      class: `bar state-${state}${row.call.action_id === chosen ? ' chosen' : ''}`, tabindex: 0, role: 'button',
      'aria-label': `Call ${barLabel(row)}`, dataset: { action: row.call.action_id, index: String(row.index) },
      on: {
        click: () => choose(row.call.action_id),
        keydown: (event) => {
          if (event.key === 'Enter' || event.key === ' ') {
            event.preventDefault();
            choose(row.call.action_id);
          }
        },
      },
    },
    svg('rect', { x: x0, y: row.y + 3, width: w, height: rowH - 6, rx: 3, fill }),
    labelNear(barLabel(row), x0, w, row.y + 15, width),
    svg('title', {}, `${time(row.call.timestamp)} · ${barLabel(row)}`));
    return bar;
  });
  const defs = svg('defs', {}, svg('marker', {
    id: 'arrow', viewBox: '0 0 8 8', refX: 7, refY: 4, markerWidth: 6, markerHeight: 6, orient: 'auto-start-reverse',
  }, svg('path', { d: 'M0,0 L8,4 L0,8 z', class: 'arrow-head' })));
  return svg('svg', {
    id: 'timeline-svg', width, height: layout.height, viewBox: `0 0 ${width} ${layout.height}`, role: 'group',
    'aria-label': 'Calls of the session over time, by agent',
  }, defs, groups, axis, arrows, bars);
}

/** Text longer than `foldAt` shown as its start, the rest behind a toggle. */
function folded(text, kind) {
  if (text.length <= foldAt) return el('pre', { class: kind || '' }, text);
  return el('details', { class: 'fold' },
    el('summary', {}, el('pre', { class: kind || '' }, `${text.slice(0, foldAt)}…`),
      el('span', { class: 'muted' }, ` show all ${count(text.length)} characters`)),
    el('pre', { class: kind || '' }, text));
}

/** The first call (1-based) that carried each message, by its JSON: later calls resend history. */
function firstSeen(calls) {
  const seen = new Map();
  calls.forEach((call, i) => {
    for (const message of call.messages || []) {
      const key = JSON.stringify(message);
      if (!seen.has(key)) seen.set(key, i + 1);
    }
    if (call.system_prompt && !seen.has(`system:${call.system_prompt}`)) seen.set(`system:${call.system_prompt}`, i + 1);
  });
  return seen;
}

/** One call, shown once: its facts, its new messages in full (folded when long), what it resends collapsed. */
export function callDetail(call, index, calls, seen) {
  const repeated = [];
  const fresh = [];
  for (const message of call.messages || []) {
    const first = seen.get(JSON.stringify(message));
    if (first && first < index) repeated.push(first);
    else fresh.push(message);
  }
  const systemFirst = call.system_prompt ? seen.get(`system:${call.system_prompt}`) : null;
  const history = repeated.length
    ? el('p', { class: 'muted history', id: 'timeline-history' },
      `${repeated.length} earlier message${repeated.length === 1 ? '' : 's'} resent: same as call`
      + `${new Set(repeated).size === 1 ? '' : 's'} ${[...new Set(repeated)].map((n) => `#${n}`).join(', ')}`)
    : '';
  const facts = [
    ['Time', time(call.timestamp)], ['Agent', agentOf(call)], ['Model', call.model_id || '—'],
    ['Tokens', `${count(call.tokens_in)} in · ${count(call.tokens_out)} out`], ['Cost', money(call.cost_usd)],
    ['Latency', millis(call.latency_ms)], ['TTFT', millis(call.ttft_ms)],
  ];
  return el('article', { class: 'timeline-call', id: 'timeline-call', dataset: { action: call.action_id } },
    el('h3', {}, `Call #${index} `, statusBadge(call), ' ',
      el('a', { href: `#/session/${encodeURIComponent(call.session_id || '')}?call=${encodeURIComponent(call.action_id)}` },
        'in the Calls tab')),
    el('dl', { class: 'facts' }, facts.map(([name, value]) => [el('dt', {}, name), el('dd', {}, String(value))])),
    call.error_detail ? el('p', { class: call.blocked ? 'refusal' : 'error' }, call.error_detail) : '',
    call.system_prompt
      ? (systemFirst && systemFirst < index
        ? el('p', { class: 'muted' }, `System prompt: same as call #${systemFirst}`)
        : el('section', { class: 'part' }, el('h4', {}, 'System prompt'), folded(call.system_prompt)))
      : '',
    history,
    el('section', { class: 'part' }, el('h4', {}, `New input (${fresh.length})`),
      fresh.length ? fresh.map((message) => el('div', { class: `message role-${message.role || 'other'}` },
        el('span', { class: 'role' }, message.role || '?'), folded(messageText(message.content) || '(empty)')))
        : el('p', { class: 'muted' }, 'nothing new')),
    (call.tool_calls || []).length ? el('section', { class: 'part' }, el('h4', {}, 'Tool calls'),
      call.tool_calls.map((tc) => el('div', {}, el('strong', {}, tc.name || '(unnamed)'), ' ',
        folded(prettyJSON(tc.arguments), 'json')))) : '',
    el('section', { class: 'part' }, el('h4', {}, 'Output'),
      call.content ? folded(call.content) : el('p', { class: 'muted' }, 'no text output')));
}

/** The Timeline tab for a session's `calls` (oldest first); `focus` is an action id to show at once. */
export function timelineView(calls, focus) {
  const seen = firstSeen(calls);
  const detail = el('div', { id: 'timeline-detail' },
    el('p', { class: 'muted' }, 'Choose a bar (click, or Tab to it and press Enter) to see that call.'));
  const chart = el('div', { class: 'timeline-chart' });
  let chosen = focus || '';
  function choose(actionId) {
    chosen = actionId;
    const index = calls.findIndex((c) => c.action_id === actionId);
    if (index < 0) return;
    draw();
    detail.replaceChildren(callDetail(calls[index], index + 1, calls, seen));
    chart.querySelector(`g.bar[data-action="${CSS.escape(actionId)}"]`)?.focus({ preventScroll: true });
  }
  function draw() {
    chart.replaceChildren(calls.length ? waterfall(calls, chosen, choose) : el('p', { class: 'muted' }, 'No calls.'));
  }
  draw();
  if (chosen) choose(chosen);
  return el('div', { class: 'timeline', id: 'timeline' }, chart, detail);
}
