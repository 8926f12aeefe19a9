// Generated from Dashboard/Assets/app.css by DashboardAssetsTests. Edit that file, then run
// AGENTLEDGER_REGENERATE_DASHBOARD=1 swift test --filter DashboardAssetsTests

extension DashboardAssets {
    static let appCSS = DashboardAsset(
        name: "app.css",
        text: ####"""
            :root {
              --bg: #f7f7f8;
              --panel: #ffffff;
              --text: #1f2328;
              --muted: #6b7280;
              --line: #e5e7eb;
              --accent: #2563eb;
              --error: #b91c1c;
              --error-bg: #fee2e2;
              --blocked: #92400e;
              --blocked-bg: #fef3c7;
              --ok: #166534;
              --ok-bg: #dcfce7;
              font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
              font-size: 14px;
              color: var(--text);
              background: var(--bg);
            }

            body { margin: 0; }
            a { color: var(--accent); text-decoration: none; }
            a:hover { text-decoration: underline; }
            h1 { font-size: 20px; margin: 16px 0 12px; }
            h4 { margin: 10px 0 4px; font-size: 12px; text-transform: uppercase; letter-spacing: 0.04em; color: var(--muted); }
            pre {
              margin: 0; padding: 8px 10px; background: #f3f4f6; border-radius: 6px; white-space: pre-wrap;
              word-break: break-word; max-height: 360px; overflow: auto; font-size: 12.5px;
            }
            .mono, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
            .muted { color: var(--muted); }
            .error { color: var(--error); }
            .refusal { color: var(--blocked); }
            .num { text-align: right; font-variant-numeric: tabular-nums; }

            .top {
              position: sticky; top: 0; z-index: 2; display: flex; align-items: center; gap: 20px; padding: 10px 20px;
              background: #111827; color: #f9fafb;
            }
            .top a { color: #d1d5db; }
            .top a.active { color: #fff; font-weight: 600; }
            .brand { font-weight: 700; font-size: 16px; color: #fff !important; }
            .top nav { display: flex; gap: 14px; }
            #search-form { flex: 1; }
            #search-input { width: 100%; max-width: 520px; padding: 6px 10px; border-radius: 6px; border: 1px solid #374151; }
            .live { font-size: 12px; padding: 2px 8px; border-radius: 10px; background: #374151; color: #9ca3af; }
            .live-live { background: #166534; color: #dcfce7; }
            .live-connecting { background: #92400e; color: #fef3c7; }

            main { padding: 4px 20px 40px; }

            .badge { display: inline-block; padding: 1px 7px; border-radius: 9px; font-size: 12px; font-weight: 600; }
            .badge.ok { background: var(--ok-bg); color: var(--ok); }
            .badge.error { background: var(--error-bg); color: var(--error); }
            .badge.blocked { background: var(--blocked-bg); color: var(--blocked); border: 1px dashed var(--blocked); }

            .cards { display: flex; flex-wrap: wrap; gap: 10px; margin: 10px 0; }
            .card {
              background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 8px 14px; min-width: 110px;
            }
            .card-value { font-size: 18px; font-weight: 600; }
            .card.error .card-value { color: var(--error); }
            .card.blocked .card-value { color: var(--blocked); }
            .chips { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; }
            .chip { background: #e0e7ff; color: #3730a3; padding: 2px 10px; border-radius: 12px; font-size: 12px; }

            .filters { display: flex; flex-wrap: wrap; gap: 10px; align-items: end; margin-bottom: 8px; }
            .filters label { display: flex; flex-direction: column; font-size: 12px; color: var(--muted); gap: 2px; }
            .filters input { padding: 4px 6px; border: 1px solid var(--line); border-radius: 4px; }
            .filters input[type="text"] { width: 140px; }
            button, .button-link {
              padding: 5px 12px; border-radius: 6px; border: 1px solid var(--line); background: var(--panel); cursor: pointer;
              font: inherit; color: var(--text);
            }
            .pager { display: flex; gap: 10px; margin-top: 10px; }

            table.grid { width: 100%; border-collapse: collapse; background: var(--panel); border: 1px solid var(--line); }
            .grid th, .grid td { padding: 6px 8px; border-bottom: 1px solid var(--line); text-align: left; white-space: nowrap; }
            .grid th { font-size: 12px; color: var(--muted); font-weight: 600; background: #f9fafb; }
            .grid td.num { text-align: right; }
            .grid td.sources { max-width: 220px; overflow: hidden; text-overflow: ellipsis; }
            tr.flash, details.flash { animation: flash 2s ease-out; }
            @keyframes flash { from { background: #fef9c3; } to { background: transparent; } }

            .tabs { display: flex; gap: 4px; align-items: center; border-bottom: 1px solid var(--line); margin: 12px 0; }
            .tab { padding: 6px 14px; border-radius: 6px 6px 0 0; color: var(--muted); }
            .tab.active {
              background: var(--panel); color: var(--text); border: 1px solid var(--line); border-bottom-color: var(--panel);
              margin-bottom: -1px; font-weight: 600;
            }

            details.call {
              background: var(--panel); border: 1px solid var(--line); border-radius: 8px; margin: 8px 0; padding: 0 12px;
            }
            details.call.state-blocked { border-left: 4px solid var(--blocked); }
            details.call.focus { outline: 2px solid var(--accent); }
            details.call summary {
              display: flex; flex-wrap: wrap; gap: 14px; align-items: center; padding: 10px 0; cursor: pointer;
            }
            details.call .index { font-weight: 700; color: var(--muted); }
            details.call .agent, .result .agent { font-weight: 600; }
            .message { display: grid; grid-template-columns: 80px 1fr; gap: 8px; margin: 4px 0; }
            .message .role { font-size: 12px; color: var(--muted); padding-top: 8px; }
            .tool-call, .tool-result { margin: 6px 0; }
            .facts {
              display: grid; grid-template-columns: repeat(auto-fill, minmax(110px, max-content) minmax(140px, 1fr));
              gap: 2px 12px; margin: 12px 0; font-size: 12.5px;
            }
            .facts dt { color: var(--muted); }
            .facts dd { margin: 0; word-break: break-all; }

            .flow-wrap {
              overflow: auto; background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 10px;
            }
            .flow-node rect { fill: #eef2ff; stroke: #6366f1; stroke-width: 1.5; }
            .flow-node.has-errors rect { stroke: var(--error); }
            .flow-node.selected rect { fill: #c7d2fe; stroke-width: 3; }
            .flow-node { cursor: pointer; }
            .flow-node text { font-size: 12px; fill: var(--text); }
            .flow-node text.name { font-weight: 700; font-size: 13px; }
            .flow-edge path { fill: none; stroke: #9ca3af; stroke-width: 1.5; }
            .flow-edge.handoff path { stroke: #6366f1; stroke-width: 2; }
            .flow-edge text { font-size: 11px; fill: var(--muted); }
            .arrow-head { fill: #6366f1; }

            .results { list-style: none; padding: 0; }
            .results li { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; margin: 8px 0; }
            .result { display: block; padding: 8px 12px; color: var(--text); }
            .result-head { display: flex; flex-wrap: wrap; gap: 12px; align-items: center; }
            .snippet { margin-top: 4px; color: #374151; white-space: pre-wrap; }
            mark { background: #fde68a; }

            .chart-grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(580px, 1fr)); gap: 14px; }
            .chart { margin: 0; background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 10px; }
            .chart figcaption { font-weight: 600; margin-bottom: 6px; }
            .chart svg { width: 100%; height: auto; max-height: 320px; }
            .chart text { font-size: 11px; fill: var(--muted); }
            .chart .grid line { stroke: var(--line); }
            .chart .bar text { fill: var(--text); }
            .legend { display: flex; gap: 14px; font-size: 12px; color: var(--muted); }
            .swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 4px; }
            .swatch[data-color="0"] { background: #2563eb; }
            .swatch[data-color="1"] { background: #dc2626; }
            .swatch[data-color="2"] { background: #16a34a; }
            .swatch[data-color="3"] { background: #d97706; }
            .swatch[data-color="4"] { background: #7c3aed; }
            .swatch[data-color="5"] { background: #0891b2; }
            .swatch[data-color="6"] { background: #db2777; }
            .swatch[data-color="7"] { background: #4b5563; }

            dialog { border: 1px solid var(--line); border-radius: 10px; padding: 20px; max-width: 360px; }
            dialog input { width: 100%; box-sizing: border-box; padding: 6px; margin: 6px 0 10px; }

            """####)
}
