// DOM building without HTML parsing: every value becomes a text node or an attribute, never markup.
const svgNS = 'http://www.w3.org/2000/svg';

// Views build thousands of nodes at once (a fleet of 1,000 sidecars, a 500-call timeline): nested arrays are walked,
// not flattened into new ones, and props are read with for-in, not copied into entry pairs.
function append(node, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false || child === '') continue;
    if (Array.isArray(child)) append(node, child);
    else node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function apply(node, props) {
  for (const name in props) {
    const value = props[name];
    if (value === null || value === undefined || value === false) continue;
    if (name === 'class') node.setAttribute('class', value);
    else if (name === 'text') node.textContent = String(value);
    else if (name === 'dataset') Object.assign(node.dataset, value);
    else if (name === 'on') for (const [type, handler] of Object.entries(value)) node.addEventListener(type, handler);
    else if (name.startsWith('on')) throw new Error(`use the on: {} property for ${name}`);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  return node;
}

/** An HTML element: `el('td', {class: 'num'}, 'text', otherNode)`. */
export function el(tag, props, ...children) {
  return append(apply(document.createElement(tag), props), children);
}

/** An SVG element, built the same way. */
export function svg(tag, props, ...children) {
  return append(apply(document.createElementNS(svgNS, tag), props), children);
}

/** A figure card: the value large, its label below; `kind` (`error`, `blocked`) colors the value. */
export function card(label, value, kind) {
  return el('div', { class: kind ? `card ${kind}` : 'card' }, el('div', { class: 'card-value' }, value), label);
}

export function money(value) {
  if (value === null || value === undefined) return '—';
  if (value === 0) return '$0';
  if (Math.abs(value) < 0.01) return `$${Number(value.toPrecision(3))}`;
  return `$${value.toFixed(value < 100 ? 4 : 2)}`;
}

export function millis(value) {
  if (value === null || value === undefined) return '—';
  if (value < 1000) return `${Math.round(value * 10) / 10} ms`;
  if (value < 60000) return `${(value / 1000).toFixed(2)} s`;
  return `${Math.floor(value / 60000)} m ${Math.round((value % 60000) / 1000)} s`;
}

// One formatter for every count: `toLocaleString` builds a new one each call, which a 1,000-row table feels.
const counter = new Intl.NumberFormat('en-US');

export function count(value) {
  return value === null || value === undefined ? '—' : counter.format(Number(value));
}

export function time(iso) {
  if (!iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  const pad = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} `
    + `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

export function span(startIso, endIso) {
  const start = Date.parse(startIso);
  const end = Date.parse(endIso);
  return Number.isNaN(start) || Number.isNaN(end) ? null : Math.max(0, end - start);
}

/** How a call ended, as the session aggregates count it: `blocked`, `error` or `ok`. */
export function callState(record) {
  if (record.blocked) return 'blocked';
  if (record.status_code === null || record.status_code === undefined) return 'error';
  if (record.status_code >= 400 || (record.outcome && record.outcome !== 'completed')) return 'error';
  return 'ok';
}

/** The status badge of a call: refusals look different from errors. */
export function statusBadge(record) {
  const state = callState(record);
  if (state === 'blocked') {
    return el('span', { class: 'badge blocked', title: 'Refused by a budget or limit' }, 'blocked');
  }
  const label = record.status_code ?? record.outcome ?? 'no status';
  if (state === 'error') {
    return el('span', { class: 'badge error', title: record.error_detail || record.outcome || '' }, `error ${label}`);
  }
  return el('span', { class: 'badge ok' }, String(label));
}

export function agentOf(record) {
  return record.agent_name || '(no agent)';
}

/** Text of a message's content, whatever shape the provider used; anything else as JSON. */
export function messageText(content) {
  if (content === null || content === undefined) return '';
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content.map((part) => {
      if (typeof part === 'string') return part;
      if (part && typeof part.text === 'string') return part.text;
      return JSON.stringify(part, null, 2);
    }).join('\n');
  }
  return JSON.stringify(content, null, 2);
}

export function prettyJSON(text) {
  if (typeof text !== 'string') return JSON.stringify(text, null, 2);
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

/** Parses `#/path?query` into `{path, params}`. */
export function parseHash(hash) {
  const raw = (hash || '').replace(/^#/, '') || '/';
  const mark = raw.indexOf('?');
  const path = mark < 0 ? raw : raw.slice(0, mark);
  const params = new URLSearchParams(mark < 0 ? '' : raw.slice(mark + 1));
  return { path, params };
}

export function hashFor(path, params = {}) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') query.set(name, value);
  }
  const text = query.toString();
  return `#${path}${text ? `?${text}` : ''}`;
}

export function sessionHash(sessionId, params = {}) {
  return hashFor(`/session/${encodeURIComponent(sessionId)}`, params);
}

export function callHash(record) {
  if (record.session_id) return sessionHash(record.session_id, { call: record.action_id });
  return hashFor(`/call/${encodeURIComponent(record.action_id)}`);
}

/** A total of money and, when some of its calls had no known price, a mark saying how many it leaves out. */
export function moneyWithUnpriced(value, unpriced) {
  if (!unpriced) return money(value);
  return el('span', {}, money(value), ' ', el('span', {
    class: 'unpriced', title: `${unpriced} call${unpriced === 1 ? '' : 's'} to models with no known price are not in this total`,
  }, `+${unpriced} unpriced`));
}
