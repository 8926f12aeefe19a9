import HTTPTypes
import Hummingbird
import Logging

/// The collector's HTTP API (CONTRACT.md section 6): sessions, calls, health and metrics.
package struct CollectorAPI: Sendable {
    let store: any Store
    let counters: CollectorCounters
    /// More Prometheus text for `/metrics` (in `up`, the sidecar half's).
    package var extraMetrics: @Sendable () -> String = { "" }

    package init(store: any Store, counters: CollectorCounters) {
        self.store = store
        self.counters = counters
    }

    /// First path segments the API owns; in `up` mode every other path goes to the proxy.
    package static let ownedPrefixes: Set<Substring> = ["api", "session", "explain", "metrics", "healthz", "readyz"]

    /// Whether a request target belongs to the API rather than the proxy.
    package static func owns(path: String) -> Bool {
        let first =
            path.split(separator: "/", omittingEmptySubsequences: true).first?
            .split(separator: "?", maxSplits: 1).first ?? ""
        return ownedPrefixes.contains(first)
    }

    package func addRoutes<Context: RequestContext>(to router: Router<Context>) {
        router.add(middleware: JSONErrorMiddleware())
        router.get("healthz") { _, _ in try JSONResponse.make(["status": "ok"]) }
        router.get("readyz") { _, _ in
            do {
                try await store.checkReady()
                return try JSONResponse.make(["status": "ready"])
            } catch {
                throw APIError(.serviceUnavailable, "store not ready: \(error)")
            }
        }
        router.get("metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: ResponseBody(byteBuffer: .init(string: counters.prometheusText() + extraMetrics())))
        }
        router.get("session/{session_id}") { _, context in
            let sessionID = try context.parameters.require("session_id")
            let calls = try await store.calls(inSession: sessionID)
            guard !calls.isEmpty else { throw APIError(.notFound, "session_id not found") }
            return try JSONResponse.make(calls)
        }
        router.get("explain/{action_id}") { _, context in
            let actionID = try context.parameters.require("action_id")
            guard let call = try await store.call(actionID: actionID) else {
                throw APIError(.notFound, "action_id not found")
            }
            return try JSONResponse.make(call)
        }
        router.get("api/sessions") { request, _ in
            let query = try Self.sessionQuery(request.uri.queryParameters)
            let page = try await store.sessions(query)
            return try JSONResponse.make(page.sessions, headers: [HTTPField.Name("X-Total-Count")!: String(page.total)])
        }
    }

    static func sessionQuery(_ parameters: Parameters) throws -> SessionQuery {
        func integer(_ name: String, default value: Int, range: ClosedRange<Int>) throws -> Int {
            guard let raw = parameters.get(name) else { return value }
            guard let number = Int(raw), range.contains(number) else {
                throw APIError(.badRequest, "\(name) must be an integer in \(range.lowerBound)...\(range.upperBound)")
            }
            return number
        }
        var query = SessionQuery(
            limit: try integer("limit", default: 50, range: 1...1000),
            offset: try integer("offset", default: 0, range: 0...Int(Int32.max)))
        query.agentName = parameters.get("agent") ?? parameters.get("agent_name")
        query.userID = parameters.get("user") ?? parameters.get("user_id")
        query.environment = parameters.get("environment")
        return query
    }
}
