// The fleet at a glance: the last 24 hours over every sidecar, from /api/stats.
import { api } from './api.js';
import { card, count, el, hashFor, millis, money, moneyWithUnpriced } from './dom.js';

/** A strip of cards (spend, calls, errors, blocked, p95) and the busiest agents, filled in when stats arrive. */
export function fleetStrip() {
  const node = el('section', { class: 'fleet', id: 'fleet' }, el('p', { class: 'muted' }, 'Fleet: loading…'));
  api.stats({ bucket: 'hour' }).then((stats) => {
    const t = stats.totals;
    const agents = stats.by_agent.slice(0, 8).map((group) => el('a', {
      class: 'chip', href: hashFor('/', { agent: group.agent_name || '' }),
      title: `${count(group.calls)} calls, ${count(group.errors)} errors`,
    }, `${group.agent_name || '(no agent)'} · ${money(group.spend_usd)}`));
    node.replaceChildren(
      el('div', { class: 'cards' },
        card('spend, last 24 h', moneyWithUnpriced(t.spend_usd, t.unpriced_calls)),
        card('calls', count(t.calls)),
        card('errors', count(t.errors), t.errors > 0 ? 'error' : ''),
        card('blocked', count(t.blocked), t.blocked > 0 ? 'blocked' : ''),
        card('latency p95', millis(t.latency_p95_ms))),
      agents.length ? el('div', { class: 'chips' }, el('span', { class: 'muted' }, 'Agents:'), agents) : '');
  }).catch((error) => {
    node.replaceChildren(el('p', { class: 'muted' }, `Fleet stats unavailable: ${error.message}`));
  });
  return node;
}
