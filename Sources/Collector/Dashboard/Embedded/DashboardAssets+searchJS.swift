// Generated from Dashboard/Assets/search.js by DashboardAssetsTests. Edit that file, then run
// AGENTLEDGER_REGENERATE_DASHBOARD=1 swift test --filter DashboardAssetsTests

extension DashboardAssets {
    static let searchJS = DashboardAsset(
        name: "search.js",
        text: ####"""
            // Search across every session (/api/search); a result opens its call.
            import { api } from './api.js';
            import { agentOf, callHash, el, messageText, money, statusBadge, time } from './dom.js';

            /** `text` with each query term wrapped in <mark>, built from text nodes only. */
            function highlighted(text, terms) {
              if (!terms.length) return [text];
              const lower = text.toLowerCase();
              const parts = [];
              let at = 0;
              while (at < text.length) {
                let next = -1;
                let length = 0;
                for (const term of terms) {
                  const found = lower.indexOf(term, at);
                  if (found >= 0 && (next < 0 || found < next)) {
                    next = found;
                    length = term.length;
                  }
                }
                if (next < 0) break;
                parts.push(text.slice(at, next), el('mark', {}, text.slice(next, next + length)));
                at = next + length;
              }
              parts.push(text.slice(at));
              return parts;
            }

            function snippet(record, terms) {
              const texts = [record.content, record.system_prompt,
                ...(record.messages || []).map((m) => messageText(m.content))].filter(Boolean);
              const hit = texts.find((t) => terms.some((term) => t.toLowerCase().includes(term))) || texts[0] || '';
              const index = Math.max(0, ...terms.map((term) => hit.toLowerCase().indexOf(term)));
              const start = Math.max(0, index - 60);
              const text = `${start > 0 ? '…' : ''}${hit.slice(start, start + 220)}${hit.length > start + 220 ? '…' : ''}`;
              return highlighted(text, terms);
            }

            export function searchView(query) {
              const terms = query.toLowerCase().split(/\s+/).filter(Boolean);
              const list = el('ol', { class: 'results', id: 'search-results' });
              const status = el('p', { class: 'muted' }, 'Searching…');
              const node = el('section', { class: 'search' }, el('h1', {}, 'Search: ', el('q', {}, query)), status, list);
              api.search(query, 50).then((records) => {
                const plural = records.length === 1 ? '' : 's';
                status.textContent = records.length ? `${records.length} call${plural}` : 'No calls match.';
                for (const record of records) {
                  list.append(el('li', { dataset: { action: record.action_id } },
                    el('a', { href: callHash(record), class: 'result' },
                      el('div', { class: 'result-head' },
                        el('span', {}, time(record.timestamp)), el('span', { class: 'agent' }, agentOf(record)),
                        el('span', { class: 'mono' }, record.model_id || '—'), statusBadge(record),
                        el('span', { class: 'num' }, money(record.cost_usd)),
                        el('span', { class: 'mono muted' }, record.session_id || '(no session)')),
                      el('div', { class: 'snippet' }, snippet(record, terms)))));
                }
              }).catch((error) => {
                status.textContent = `Search failed: ${error.detail || error.message}`;
              });
              return { node };
            }

            """####)
}
