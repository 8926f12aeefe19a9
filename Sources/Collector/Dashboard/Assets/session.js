// One session: a header of totals, then the Calls and Flow tabs; live calls of the session are appended.
import { api } from './api.js';
import { callList } from './calls.js';
import { agentOf, callState, count, el, millis, money, moneyWithUnpriced, sessionHash, span } from './dom.js';
import { flowView } from './flow.js';
import { timelineView } from './timeline.js';

function totals(calls) {
  const sum = (f) => calls.reduce((acc, c) => acc + (f(c) || 0), 0);
  const first = calls[0]?.timestamp;
  const last = calls.reduce((acc, c) => {
    const end = Date.parse(c.timestamp) + (c.latency_ms || 0);
    return Math.max(acc, end);
  }, 0);
  const agents = [...new Set(calls.map(agentOf))];
  return el('div', { class: 'cards' },
    el('div', { class: 'card' }, el('div', { class: 'card-value' }, count(calls.length)), 'calls'),
    el('div', { class: 'card' }, el('div', { class: 'card-value' },
      moneyWithUnpriced(sum((c) => (c.blocked ? 0 : c.cost_usd)),
        calls.filter((c) => !c.blocked && c.cost_usd === null && c.model_id && c.tokens_in !== null).length)), 'cost'),
    el('div', { class: 'card error' }, el('div', { class: 'card-value' },
      count(calls.filter((c) => callState(c) === 'error').length)), 'errors'),
    el('div', { class: 'card blocked' }, el('div', { class: 'card-value' },
      count(calls.filter((c) => c.blocked).length)), 'blocked'),
    el('div', { class: 'card' }, el('div', { class: 'card-value' },
      millis(first ? span(first, new Date(last).toISOString()) : null)), 'duration'),
    el('div', { class: 'card' }, el('div', { class: 'card-value' }, count(agents.length)), agents.join(', ')));
}

/** The session view for `#/session/<id>?tab=calls|timeline|flow&agent=…&call=…`. */
export function sessionView(sessionId, params) {
  const tab = ['flow', 'timeline'].includes(params.get('tab')) ? params.get('tab') : 'calls';
  const agent = params.get('agent') || '';
  const focus = params.get('call') || '';
  let calls = [];
  const head = el('div', { class: 'session-head' });
  const content = el('div', { class: 'tab-content' }, el('p', { class: 'muted' }, 'Loading…'));
  const tabLink = (name, label, extra = {}) => el('a', {
    href: sessionHash(sessionId, { tab: name === 'calls' ? '' : name, ...extra }),
    class: `tab${tab === name ? ' active' : ''}`, id: `tab-${name}`,
  }, label);
  const filterNote = agent
    ? el('span', { class: 'chip', id: 'agent-filter' }, `agent: ${agent} `,
      el('a', { href: sessionHash(sessionId), title: 'Show all' }, '×'))
    : '';
  const node = el('section', { class: 'session' },
    el('p', {}, el('a', { href: '#/' }, '← Sessions')),
    el('h1', {}, 'Session ', el('span', { class: 'mono', id: 'session-id' }, sessionId)),
    head,
    el('nav', { class: 'tabs' }, tabLink('calls', 'Calls'), tabLink('timeline', 'Timeline'), tabLink('flow', 'Flow'),
      filterNote),
    content);

  function render() {
    head.replaceChildren(totals(calls));
    if (tab === 'timeline') {
      content.replaceChildren(timelineView(calls, focus));
    } else if (tab === 'flow') {
      content.replaceChildren(flowView(calls, agent, (name) => {
        location.hash = sessionHash(sessionId, { agent: name });
      }));
    } else {
      content.replaceChildren(callList(calls, agent));
    }
  }

  function reveal(actionId) {
    const card = document.getElementById(`call-${actionId}`);
    if (!card) return;
    card.open = true;
    card.classList.add('focus');
    card.scrollIntoView({ block: 'start' });
  }

  api.session(sessionId).then((loaded) => {
    calls = loaded;
    render();
    if (focus) reveal(focus);
  }).catch((error) => {
    const why = error.detail || error.message;
    content.replaceChildren(el('p', { class: 'error' }, `Could not load the session: ${why}`));
  });

  function onCall(record) {
    if (record.session_id !== sessionId || calls.some((c) => c.action_id === record.action_id)) return;
    calls = [...calls, record].sort((a, b) => (a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : 0));
    const scroll = window.scrollY;
    render();
    window.scrollTo(0, scroll);
    document.getElementById(`call-${record.action_id}`)?.classList.add('flash');
  }

  return { node, onCall, reveal };
}

/** A call without a session, from `/explain`. */
export function singleCallView(actionId) {
  const content = el('div', {}, el('p', { class: 'muted' }, 'Loading…'));
  api.call(actionId).then((record) => {
    content.replaceChildren(callList([record], ''));
  }).catch((error) => {
    content.replaceChildren(el('p', { class: 'error' }, `Could not load the call: ${error.detail || error.message}`));
  });
  return { node: el('section', {}, el('h1', {}, 'Call ', el('span', { class: 'mono' }, actionId)), content) };
}
