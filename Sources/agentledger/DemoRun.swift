import AsyncHTTPClient
import Foundation
import NIOCore

/// The demo's simulated multi-agent run: an orchestrator hands work to a researcher (who calls tools and hits one
/// upstream error) and to a writer (who streams from Anthropic's API), in a few sessions of different users. Every call
/// goes through the demo's own proxy, exactly as an agent's would.
struct DemoRun: Sendable {
    let proxyPort: Int

    private static let trips = [("Paris", "ann"), ("Kyoto", "bob"), ("Lisbon", "chen")]

    /// Plays every session; returns a summary for the terminal.
    func play() async -> String {
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup)
        var calls = 0
        var failures: [String] = []
        let stamp = String(Int(Date().timeIntervalSince1970) % 100_000)
        for (index, trip) in Self.trips.enumerated() {
            let session = Session(
                client: client, base: "http://127.0.0.1:\(proxyPort)", id: "demo-\(trip.0.lowercased())-\(stamp)",
                user: trip.1)
            do {
                calls += try await session.plan(city: trip.0)
            } catch {
                failures.append("\(session.id): \(error)")
            }
            if index < Self.trips.count - 1 { try? await Task.sleep(for: .milliseconds(700)) }
        }
        try? await client.shutdown()
        let dashboard = "http://localhost:\(proxyPort)/"
        if failures.isEmpty {
            return "demo: \(calls) calls in \(Self.trips.count) sessions recorded; open \(dashboard)\n"
        }
        return "demo: \(calls) calls recorded; some failed: \(failures.joined(separator: "; "))\n"
    }

    /// One session of the run.
    struct Session: Sendable {
        let client: HTTPClient
        let base: String
        let id: String
        let user: String

        func plan(city: String) async throws -> Int {
            let plan = try await call(
                "/v1/chat/completions", agent: "orchestrator",
                body: [
                    "model": "gpt-4o",
                    "messages": [
                        ["role": "system", "content": "You are a travel planner. Delegate research and writing."],
                        ["role": "user", "content": "Plan two days in \(city) for a first-time visitor."],
                    ],
                ])
            let question: [String: Any] = ["role": "user", "content": "What is the weather and local time in \(city)?"]
            let research = try await call(
                "/v1/chat/completions", agent: "researcher", parent: plan.actionID, handoff: ("orchestrator", "researcher"),
                scenario: "tool_call",
                body: ["model": "gpt-4o-mini", "tools": Self.tools, "messages": [question]])
            let toolCalls =
                (research.json["choices"] as? [[String: Any]])?.first
                .flatMap { $0["message"] as? [String: Any] }.flatMap { $0["tool_calls"] as? [[String: Any]] } ?? []
            var history: [[String: Any]] = [question, ["role": "assistant", "content": NSNull(), "tool_calls": toolCalls]]
            for toolCall in toolCalls {
                let name = (toolCall["function"] as? [String: Any])?["name"] as? String ?? "tool"
                history.append([
                    "role": "tool", "tool_call_id": toolCall["id"] as? String ?? "",
                    "content": name == "get_weather" ? "18°C, light rain" : "14:05 local time",
                ])
            }
            _ = try await call(
                "/v1/chat/completions", agent: "researcher", parent: research.actionID,
                body: ["model": "gpt-4o-mini", "tools": Self.tools, "messages": history])
            // One upstream failure, as real runs have.
            _ = try await call(
                "/v1/chat/completions", agent: "researcher", parent: research.actionID, scenario: "error_500",
                body: ["model": "gpt-4o-mini", "messages": [["role": "user", "content": "Find museum opening hours."]]])
            _ = try await call(
                "/v1/messages", agent: "writer", parent: plan.actionID, handoff: ("researcher", "writer"),
                body: [
                    "model": "claude-sonnet-4-5", "max_tokens": 512, "stream": true,
                    "system": "You write friendly, concise itineraries.",
                    "messages": [["role": "user", "content": "Write the itinerary for \(city): rain expected, start at 9."]],
                ])
            _ = try await call(
                "/v1/chat/completions", agent: "orchestrator", parent: plan.actionID, handoff: ("writer", "orchestrator"),
                scenario: "cache",
                body: [
                    "model": "gpt-4o", "stream": true,
                    "messages": [["role": "user", "content": "Review the itinerary for \(city) and approve it."]],
                ])
            return 6
        }

        struct Answer {
            var actionID: String?
            var json: [String: Any]
        }

        private func call(
            _ path: String, agent: String, parent: String? = nil, handoff: (String, String)? = nil,
            scenario: String? = nil, body: [String: Any]
        ) async throws -> Answer {
            var request = HTTPClientRequest(url: base + path)
            request.method = .POST
            request.headers.add(name: "content-type", value: "application/json")
            request.headers.add(name: "authorization", value: "Bearer demo-key-not-a-secret")
            request.headers.add(name: "x-api-key", value: "demo-key-not-a-secret")
            request.headers.add(name: "anthropic-version", value: "2023-06-01")
            request.headers.add(name: "x-agentledger-session-id", value: id)
            request.headers.add(name: "x-agentledger-agent-name", value: agent)
            request.headers.add(name: "x-agentledger-user-id", value: user)
            request.headers.add(name: "x-agentledger-app-id", value: "trip-planner")
            request.headers.add(name: "x-agentledger-environment", value: "demo")
            if let parent { request.headers.add(name: "x-agentledger-parent-action-id", value: parent) }
            if let (from, to) = handoff {
                request.headers.add(name: "x-agentledger-handoff-from", value: from)
                request.headers.add(name: "x-agentledger-handoff-to", value: to)
            }
            if let scenario { request.headers.add(name: "x-mock-scenario", value: scenario) }
            request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body)))
            let response = try await client.execute(request, timeout: .seconds(30))
            let bytes = try await response.body.collect(upTo: 8 << 20)
            let json = (try? JSONSerialization.jsonObject(with: Data(bytes.readableBytesView))) as? [String: Any] ?? [:]
            return Answer(actionID: response.headers.first(name: "x-agentledger-action-id"), json: json)
        }

        static var tools: [[String: Any]] {
            [
                [
                    "type": "function",
                    "function": [
                        "name": "get_weather", "description": "Current weather of a city",
                        "parameters": ["type": "object", "properties": ["city": ["type": "string"]]],
                    ],
                ],
                [
                    "type": "function",
                    "function": [
                        "name": "get_time", "description": "Local time in a timezone",
                        "parameters": ["type": "object", "properties": ["timezone": ["type": "string"]]],
                    ],
                ],
            ]
        }
    }
}
