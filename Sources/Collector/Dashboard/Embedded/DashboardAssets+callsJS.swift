// Generated from Dashboard/Assets/calls.js by DashboardAssetsTests. Edit that file, then run
// AGENTLEDGER_REGENERATE_DASHBOARD=1 swift test --filter DashboardAssetsTests

extension DashboardAssets {
    static let callsJS = DashboardAsset(
        name: "calls.js",
        text: ####"""
            // The Calls tab: every call of a session with prompts, messages, tools, output, tokens, cost and timing.
            import {
              agentOf, callHash, count, el, messageText, millis, money, prettyJSON, statusBadge, time,
            } from './dom.js';

            function section(title, ...content) {
              return el('section', { class: 'part' }, el('h4', {}, title), content);
            }

            function pre(text, kind) {
              return el('pre', { class: kind || '' }, text);
            }

            /** Maps tool_call_id to the action id that asked for it, for results the store did not link. */
            function askers(calls) {
              const byToolCall = new Map();
              const result = new Map();
              for (const call of calls) {
                for (const tr of call.tool_results || []) {
                  if (!tr.requested_by && tr.tool_call_id && byToolCall.has(tr.tool_call_id)) {
                    result.set(`${call.action_id}/${tr.tool_call_id}`, byToolCall.get(tr.tool_call_id));
                  }
                }
                for (const tc of call.tool_calls || []) if (tc.id) byToolCall.set(tc.id, call.action_id);
              }
              return result;
            }

            /** A message's tool calls in the OpenAI (`function`) or flat shape, one line each. */
            function askedTools(message) {
              return (message.tool_calls || []).map((call) => {
                const fn = call.function || call;
                const args = typeof fn.arguments === 'string' ? fn.arguments : JSON.stringify(fn.arguments ?? fn.input);
                return `→ ${fn.name || '?'}(${args})`;
              }).join('\n');
            }

            function messages(record) {
              const list = (record.messages || []).map((message) => {
                const text = messageText(message.content);
                const asked = askedTools(message);
                const extra = message.tool_call_id ? `answers ${message.tool_call_id}` : '';
                return el('div', { class: `message role-${message.role || 'other'}` },
                  el('span', { class: 'role' }, message.role || '?'),
                  el('div', {},
                    text || !asked ? pre(text || '(empty)') : '',
                    asked ? pre(asked, 'json') : '',
                    extra ? el('div', { class: 'muted mono' }, extra) : ''));
              });
              return section(`Input messages (${list.length})`, list.length ? list : el('p', { class: 'muted' }, 'none'));
            }

            function toolCalls(record) {
              if (!record.tool_calls || record.tool_calls.length === 0) return '';
              return section('Tool calls', record.tool_calls.map((call) => el('div', { class: 'tool-call', id: `tc-${call.id}` },
                el('div', {}, el('strong', {}, call.name || '(unnamed)'), ' ',
                  el('span', { class: 'mono muted' }, call.id || '')),
                pre(prettyJSON(call.arguments), 'json'))));
            }

            function toolResults(record, calls, links, indexOf) {
              if (!record.tool_results || record.tool_results.length === 0) return '';
              return section('Tool results', record.tool_results.map((result) => {
                const asker = result.requested_by || links.get(`${record.action_id}/${result.tool_call_id}`);
                const askerCall = asker && calls.find((c) => c.action_id === asker);
                const link = askerCall
                  ? el('a', { href: callHash(askerCall), class: 'requested-by', dataset: { target: asker } },
                    `answers call #${indexOf(asker)}`)
                  : el('span', { class: 'muted' }, 'asker not found');
                return el('div', { class: 'tool-result' },
                  el('div', {}, el('span', { class: 'mono muted' }, result.tool_call_id || '(no id)'), ' ', link),
                  pre(messageText(result.content)));
              }));
            }

            function facts(record) {
              const rows = [
                ['Tokens in', count(record.tokens_in)], ['Tokens out', count(record.tokens_out)],
                ['Cache read', count(record.tokens_cache_read)], ['Cache write', count(record.tokens_cache_write)],
                ['Reasoning', count(record.tokens_reasoning)], ['Cost', money(record.cost_usd)],
                ['Price table', record.price_table || '—'], ['Latency', millis(record.latency_ms)],
                ['TTFT', millis(record.ttft_ms)], ['Stream', record.stream ? 'yes' : 'no'],
                ['Status', record.status_code ?? '—'], ['Outcome', record.outcome || '—'],
                ['Stop reason', record.stop_reason || '—'], ['Provider', record.provider || '—'],
                ['Temperature', record.temperature ?? '—'], ['Max tokens', record.max_tokens ?? '—'],
                ['User', record.user_id || '—'], ['App', record.app_id || '—'], ['Environment', record.environment || '—'],
                ['Source', record.source || '—'], ['Action id', record.action_id], ['Parent', record.parent_action_id || '—'],
                ['Handoff', record.handoff_from || record.handoff_to
                  ? `${record.handoff_from || '?'} → ${record.handoff_to || '?'}` : '—'],
              ];
              return el('dl', { class: 'facts' }, rows.map(([name, value]) => [el('dt', {}, name), el('dd', {}, String(value))]));
            }

            /** One call as a collapsible card; `calls` is the whole session (for tool-result links). */
            export function callCard(record, index, calls, links, open) {
              const indexOf = (actionId) => calls.findIndex((c) => c.action_id === actionId) + 1;
              const summary = el('summary', {},
                el('span', { class: 'index' }, `#${index}`),
                el('span', {}, time(record.timestamp)),
                el('span', { class: 'agent' }, agentOf(record)),
                el('span', { class: 'mono' }, record.model_id || '—'),
                statusBadge(record),
                el('span', { class: 'num' }, `${count(record.tokens_in)} → ${count(record.tokens_out)} tok`),
                el('span', { class: 'num' }, money(record.cost_usd)),
                el('span', { class: 'num' }, millis(record.latency_ms)),
                record.ttft_ms !== null && record.ttft_ms !== undefined
                  ? el('span', { class: 'num muted' }, `TTFT ${millis(record.ttft_ms)}`) : '');
              const details = el('details', {
                class: `call state-${record.blocked ? 'blocked' : 'other'}`, id: `call-${record.action_id}`,
                dataset: { action: record.action_id, agent: agentOf(record) },
              }, summary,
              record.error_detail ? el('p', { class: record.blocked ? 'refusal' : 'error' }, record.error_detail) : '',
              record.system_prompt ? section('System prompt', pre(record.system_prompt)) : '',
              messages(record),
              toolResults(record, calls, links, indexOf),
              toolCalls(record),
              section('Output', record.content ? pre(record.content) : el('p', { class: 'muted' }, 'no text output')),
              facts(record));
              details.open = open;
              return details;
            }

            /** The Calls tab: cards for `calls`, those of `agent` only when given. */
            export function callList(calls, agent) {
              const links = askers(calls);
              const shown = calls.map((call, i) => [call, i + 1]).filter(([call]) => !agent || agentOf(call) === agent);
              const open = shown.length <= 10;
              return el('div', { class: 'calls', id: 'calls' },
                shown.map(([call, index]) => callCard(call, index, calls, links, open)));
            }

            """####)
}
