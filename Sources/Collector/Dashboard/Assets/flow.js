// The Flow tab: agents as nodes, handoffs and cross-agent parent links as edges, laid out left to right.
import { agentOf, callState, count, el, millis, money, svg } from './dom.js';

const nodeWidth = 190;
const nodeHeight = 66;
const columnGap = 150;
const rowGap = 28;

/** Nodes (one per agent) and edges (`from → to` with how many handoffs or parent links) of a session. */
export function flowGraph(calls) {
  const nodes = new Map();
  const edges = new Map();
  const byAction = new Map(calls.map((call) => [call.action_id, call]));
  const node = (name) => {
    if (!nodes.has(name)) nodes.set(name, { name, calls: 0, cost: 0, latency: 0, errors: 0, blocked: 0 });
    return nodes.get(name);
  };
  const edge = (from, to, kind) => {
    if (from === to) return;
    node(from);
    node(to);
    const key = `${from}\u0000${to}`;
    const entry = edges.get(key) || { from, to, handoffs: 0, links: 0 };
    entry[kind] += 1;
    edges.set(key, entry);
  };
  for (const call of calls) {
    const n = node(agentOf(call));
    n.calls += 1;
    n.cost += call.blocked ? 0 : call.cost_usd || 0;
    n.latency += call.latency_ms || 0;
    const state = callState(call);
    if (state === 'error') n.errors += 1;
    if (state === 'blocked') n.blocked += 1;
  }
  for (const call of calls) {
    if (call.handoff_to || call.handoff_from) {
      edge(call.handoff_from || agentOf(call), call.handoff_to || agentOf(call), 'handoffs');
    }
    const parent = call.parent_action_id && byAction.get(call.parent_action_id);
    if (parent) edge(agentOf(parent), agentOf(call), 'links');
  }
  return { nodes: [...nodes.values()], edges: [...edges.values()] };
}

/** Columns by longest path from a root, ignoring edges that close a cycle. */
function layers(graph) {
  const outgoing = new Map(graph.nodes.map((n) => [n.name, []]));
  for (const e of graph.edges) outgoing.get(e.from).push(e.to);
  const state = new Map();
  const back = new Set();
  const order = [];
  const visit = (name) => {
    state.set(name, 'open');
    for (const next of outgoing.get(name)) {
      if (state.get(next) === 'open') back.add(`${name}\u0000${next}`);
      else if (!state.has(next)) visit(next);
    }
    state.set(name, 'done');
    order.push(name);
  };
  const incoming = new Set(graph.edges.map((e) => e.to));
  for (const n of graph.nodes) if (!incoming.has(n.name) && !state.has(n.name)) visit(n.name);
  for (const n of graph.nodes) if (!state.has(n.name)) visit(n.name);
  const layer = new Map(graph.nodes.map((n) => [n.name, 0]));
  for (const name of order.reverse()) {
    for (const next of outgoing.get(name)) {
      if (!back.has(`${name}\u0000${next}`)) layer.set(next, Math.max(layer.get(next), layer.get(name) + 1));
    }
  }
  return layer;
}

function edgePath(a, b) {
  if (b.x > a.x) {
    const x1 = a.x + nodeWidth;
    const y1 = a.y + nodeHeight / 2;
    const x2 = b.x;
    const y2 = b.y + nodeHeight / 2;
    const mid = (x1 + x2) / 2;
    return { d: `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`, lx: mid, ly: (y1 + y2) / 2 };
  }
  const x1 = a.x + nodeWidth / 2;
  const x2 = b.x + nodeWidth / 2;
  const y1 = a.y + nodeHeight;
  const y2 = b.y + nodeHeight;
  const low = Math.max(y1, y2) + 40;
  return { d: `M${x1},${y1} C${x1},${low} ${x2},${low} ${x2},${y2}`, lx: (x1 + x2) / 2, ly: low - 8 };
}

/** The graph as an SVG; clicking a node calls `onSelect(agentName)`. */
export function flowView(calls, selected, onSelect) {
  const graph = flowGraph(calls);
  const layer = layers(graph);
  const columns = [];
  for (const n of graph.nodes) (columns[layer.get(n.name)] ||= []).push(n);
  const place = new Map();
  columns.forEach((column, c) => column.forEach((n, r) => place.set(n.name, {
    x: 20 + c * (nodeWidth + columnGap), y: 20 + r * (nodeHeight + rowGap),
  })));
  const width = 40 + columns.length * (nodeWidth + columnGap) - columnGap;
  const height = 100 + Math.max(1, ...columns.map((column) => column.length)) * (nodeHeight + rowGap);
  const marker = svg('defs', {}, svg('marker', {
    id: 'arrow', viewBox: '0 0 10 10', refX: '10', refY: '5', markerWidth: '8', markerHeight: '8',
    orient: 'auto-start-reverse',
  }, svg('path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrow-head' })));
  const edges = graph.edges.map((e) => {
    const { d, lx, ly } = edgePath(place.get(e.from), place.get(e.to));
    const label = [e.handoffs ? `${e.handoffs} handoff${e.handoffs > 1 ? 's' : ''}` : '',
      e.links ? `${e.links} call${e.links > 1 ? 's' : ''}` : ''].filter(Boolean).join(', ');
    return svg('g', { class: `flow-edge${e.handoffs ? ' handoff' : ''}`, dataset: { from: e.from, to: e.to } },
      svg('path', { d, 'marker-end': 'url(#arrow)' }),
      svg('text', { x: lx, y: ly - 4, 'text-anchor': 'middle' }, label));
  });
  const nodes = graph.nodes.map((n) => {
    const { x, y } = place.get(n.name);
    const classes = ['flow-node', n.errors ? 'has-errors' : '', selected === n.name ? 'selected' : ''];
    const group = svg('g', {
      class: classes.filter(Boolean).join(' '), dataset: { agent: n.name }, transform: `translate(${x},${y})`,
      tabindex: '0', role: 'button',
    },
    svg('title', {}, `Show the calls of ${n.name}`),
    svg('rect', { width: nodeWidth, height: nodeHeight, rx: '8' }),
    svg('text', { x: 10, y: 20, class: 'name' }, n.name.length > 24 ? `${n.name.slice(0, 23)}…` : n.name),
    svg('text', { x: 10, y: 38 }, `${count(n.calls)} calls · ${money(n.cost)}`),
    svg('text', { x: 10, y: 56 },
      `avg ${millis(n.calls ? n.latency / n.calls : null)} · ${n.errors} err`
        + (n.blocked ? ` · ${n.blocked} blk` : '')));
    group.addEventListener('click', () => onSelect(n.name));
    group.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' || event.key === ' ') onSelect(n.name);
    });
    return group;
  });
  const picture = svg('svg', {
    class: 'flow', id: 'flow-graph', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img',
    'aria-label': 'Agents and handoffs',
  }, marker, edges, nodes);
  const note = graph.edges.length ? ''
    : el('p', { class: 'muted' }, 'No handoffs or cross-agent calls in this session.');
  return el('div', { class: 'flow-wrap' }, picture, note);
}
