import Foundation

/// The printable HTML audit report of a session (`/export/{session_id}/report`): summary, integrity hash, then
/// every call in full. Self-contained: inline print CSS, no script, no external resource, every user-supplied
/// string escaped.
package struct AuditReport: Sendable {
    package var export: AuditExport

    package init(export: AuditExport) {
        self.export = export
    }

    /// Served with this policy, so even an escaping mistake could not run a script or load anything.
    package static let contentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

    package func html() -> String {
        let session = export.session
        var html = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>AgentLedger audit report: \(e(session.sessionID))</title>
            <style>\(Self.style)</style>
            </head>
            <body>
            <header>
            <h1>Audit report</h1>
            <p class="session">Session <code>\(e(session.sessionID))</code></p>
            </header>
            <section class="summary">
            <h2>Summary</h2>

            """
        html += Self.table([
            ("Calls", String(session.callCount)),
            ("Started", ISOTimestamp.format(micros: session.startedAtMicros)),
            ("Ended", ISOTimestamp.format(micros: session.endedAtMicros)),
            ("Total cost", Self.dollars(session.totalCostUSD)),
            ("Tokens in / out", "\(session.totalTokensIn) / \(session.totalTokensOut)"),
            ("Total latency", Self.milliseconds(session.totalLatencyMS)),
            ("Errors", String(session.errorCount)),
            ("Blocked", String(session.blockedCount)),
            ("Model", session.modelID ?? "-"),
            ("Agent", session.agentName ?? "-"),
            ("User", session.userID ?? "-"),
            ("Environment", session.environment ?? "-"),
        ])
        html += "<h2>Integrity</h2>\n"
        var integrity = [
            ("Integrity", export.integrity),
            ("Generated", ISOTimestamp.format(micros: export.generatedAtMicros)),
            ("Generator", export.generator),
        ]
        if let signature = export.signature { integrity.insert(("Signature", signature), at: 1) }
        html += Self.table(integrity, code: true)
        html += """
            <p class="note">The hash covers the canonical (RFC 8785) JSON of the calls in the JSON export of this \
            session. Check a saved export offline with <code>agentledger verify-export FILE</code>.</p>
            </section>

            """
        for (position, call) in export.calls.enumerated() {
            html += Self.section(call, number: position + 1)
        }
        html += "</body>\n</html>\n"
        return html
    }

    private func e(_ text: String) -> String { HTMLText.escape(text) }

    private static func section(_ call: CallRecord, number: Int) -> String {
        let time = ISOTimestamp.format(micros: call.timestampMicros)
        var html = "<section class=\"call\">\n<h2>Call \(number) <span class=\"time\">\(HTMLText.escape(time))</span>"
        if call.blocked { html += " <span class=\"flag\">blocked</span>" }
        if call.isError { html += " <span class=\"flag\">error</span>" }
        html += "</h2>\n"
        html += table(facts(of: call))
        if let error = call.errorDetail { html += block("Error", error) }
        if let system = call.systemPrompt { html += block("System prompt", system) }
        if !call.messages.isEmpty {
            html += "<h3>Messages</h3>\n"
            for message in call.messages {
                let role = message["role"]?.stringValue ?? "message"
                html += "<div class=\"message\"><p class=\"role\">\(HTMLText.escape(role))</p>"
                html += "<pre>\(HTMLText.escape(text(of: message)))</pre></div>\n"
            }
        }
        if let toolCalls = call.toolCalls, !toolCalls.isEmpty {
            html += "<h3>Tool calls</h3>\n"
            for toolCall in toolCalls {
                html += "<div class=\"tool\"><p class=\"role\">\(HTMLText.escape(toolCall.name ?? "unnamed tool"))"
                html += " <code>\(HTMLText.escape(toolCall.id ?? "-"))</code></p>"
                html += "<pre>\(HTMLText.escape(toolCall.arguments))</pre></div>\n"
            }
        }
        if let results = call.toolResults, !results.isEmpty {
            html += "<h3>Tool results</h3>\n"
            for result in results {
                var label = "result for <code>\(HTMLText.escape(result.toolCallID ?? "-"))</code>"
                if let asker = result.requestedBy { label += " (asked by <code>\(HTMLText.escape(asker))</code>)" }
                html += "<div class=\"tool\"><p class=\"role\">\(label)</p>"
                html += "<pre>\(HTMLText.escape(text(of: result.content)))</pre></div>\n"
            }
        }
        if let output = call.content { html += block("Output", output) }
        return html + "</section>\n"
    }

    private static func facts(of call: CallRecord) -> [(String, String)] {
        var facts: [(String, String)] = [
            ("Action", call.actionID),
            ("Agent", call.agentName ?? "-"),
            ("Model", [call.modelID, call.provider.map { "(\($0))" }].compactMap { $0 }.joined(separator: " ")),
            ("Status", [call.statusCode.map(String.init), call.outcome].compactMap { $0 }.joined(separator: " ")),
            ("Blocked", call.blocked ? "yes" : "no"),
            ("Tokens in / out", "\(count(call.tokensIn)) / \(count(call.tokensOut))"),
            ("Cache read / write", "\(count(call.tokensCacheRead)) / \(count(call.tokensCacheWrite))"),
            ("Cost", call.costUSD.map(dollars) ?? "unknown price"),
            ("Latency", call.latencyMS.map(milliseconds) ?? "-"),
        ]
        if let ttft = call.ttftMS { facts.append(("Time to first byte", milliseconds(ttft))) }
        if call.stream { facts.append(("Stream", "yes")) }
        for (name, value) in [
            ("User", call.userID), ("App", call.appID), ("Environment", call.environment),
            ("Parent action", call.parentActionID), ("Handoff from", call.handoffFrom), ("Handoff to", call.handoffTo),
            ("Stop reason", call.stopReason), ("Source", call.source), ("Price table", call.priceTable),
        ] {
            if let value { facts.append((name, value)) }
        }
        return facts
    }

    /// A message's text when it is a plain `{"role", "content": "..."}`; otherwise its JSON without the role.
    private static func text(of message: JSONValue) -> String {
        guard case .object(var members) = message else { return text(ofJSON: message) }
        members["role"] = nil
        if members.count == 1, let content = members["content"]?.stringValue { return content }
        return text(ofJSON: .object(members))
    }

    private static func text(ofJSON value: JSONValue) -> String {
        if let string = value.stringValue { return string }
        return (try? CanonicalJSON.text(of: value)) ?? JSONWriter.text(of: value)
    }

    private static func block(_ title: String, _ text: String) -> String {
        "<h3>\(title)</h3>\n<pre>\(HTMLText.escape(text))</pre>\n"
    }

    private static func table(_ rows: [(String, String)], code: Bool = false) -> String {
        var html = "<table>\n"
        for (name, value) in rows {
            let cell = code ? "<code>\(HTMLText.escape(value))</code>" : HTMLText.escape(value)
            html += "<tr><th>\(HTMLText.escape(name))</th><td>\(cell)</td></tr>\n"
        }
        return html + "</table>\n"
    }

    private static func count(_ value: Int?) -> String { value.map(String.init) ?? "-" }

    /// USD to 10 decimal places with trailing zeros dropped (a cheap call costs $0.00001, never $0.00).
    static func dollars(_ value: Double) -> String {
        var text = String(format: "%.10f", value)
        while text.hasSuffix("0"), let dot = text.firstIndex(of: "."), text.distance(from: dot, to: text.endIndex) > 3 {
            text.removeLast()
        }
        return "$" + text
    }

    static func milliseconds(_ value: Double) -> String {
        (CanonicalJSON.number((value * 1000).rounded() / 1000) ?? "-") + " ms"
    }

    private static let style = """
        body{font:14px/1.45 -apple-system,"Segoe UI",Helvetica,Arial,sans-serif;color:#111;margin:2rem auto;\
        max-width:60rem;padding:0 1rem}
        h1{font-size:1.6rem;margin:0}h2{font-size:1.2rem;border-bottom:1px solid #ccc;padding-bottom:.2rem;\
        margin-top:2rem}h3{font-size:1rem;margin:1rem 0 .3rem}
        table{border-collapse:collapse;margin:.5rem 0}th{text-align:left;font-weight:600;padding:.1rem 1rem .1rem 0;\
        vertical-align:top;white-space:nowrap}td{padding:.1rem 0;word-break:break-all}
        pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#f5f5f5;border:1px solid #ddd;padding:.5rem;\
        margin:.2rem 0;font:12px/1.4 ui-monospace,Menlo,Consolas,monospace}
        code{font:12px ui-monospace,Menlo,Consolas,monospace;overflow-wrap:anywhere}
        .role{font-weight:600;margin:.6rem 0 0}.time{font-weight:400;color:#555;font-size:.9rem}
        .flag{font-size:.8rem;border:1px solid #a00;color:#a00;padding:0 .3rem;border-radius:3px}
        .note{color:#555;font-size:.9rem}
        @media print{body{margin:0;max-width:none;font-size:11px}pre{background:none;border:1px solid #999}\
        h2,h3,.role{break-after:avoid}tr,.message,.tool{break-inside:avoid}\
        @page{margin:1.5cm}}
        """
}
