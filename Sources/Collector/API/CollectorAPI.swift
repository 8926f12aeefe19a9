import Foundation
import HTTPTypes
import Hummingbird
import LedgerMetrics
import LedgerProtocol
import Logging

/// The collector's HTTP API (docs/reference.md, "HTTP API"): sessions, calls, search, stats, health and metrics.
package struct CollectorAPI: Sendable {
    /// The store ingest writes to: `/readyz` asks it.
    let store: any Store
    /// Where the reads go: the store, or a read replica of it (`AGENTLEDGER_READ_DSN`).
    let reads: any Store
    let counters: CollectorCounters
    /// Appends more Prometheus text to `/metrics` after the collector's registry (in `up`, the sidecar half's).
    package var extraMetrics: @Sendable (inout [UInt8]) -> Void = { _ in }

    /// `reads`: a read replica of `store` for every read, or nil to read `store`.
    package init(store: any Store, reads: (any Store)? = nil, counters: CollectorCounters) {
        self.store = store
        self.reads = reads ?? store
        self.counters = counters
    }

    /// First path segments the API owns; in `up` mode every other path goes to the proxy.
    /// `""` is the dashboard's page at `/`; `ws`, `assets`, `export` and `mcp` are served by their own routes.
    package static let ownedPrefixes: Set<Substring> = [
        "", "api", "session", "explain", "metrics", "healthz", "readyz", "export", "assets", "ws", "mcp",
    ]

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
            // Every metric of the collector instance is in the registry of its counters (docs/operations.md, "Metrics").
            var text: [UInt8] = []
            text.reserveCapacity(16 * 1024)
            counters.registry.emit(into: &text)
            extraMetrics(&text)
            return Response(
                status: .ok, headers: [.contentType: prometheusContentType],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: text)))
        }
        router.get("session/{session_id}") { _, context in
            let sessionID = try context.parameters.require("session_id")
            let calls = try await reads.calls(inSession: sessionID)
            guard !calls.isEmpty else { throw APIError(.notFound, "session_id not found") }
            return JSONResponse.records(ToolLinks.link(calls))
        }
        router.get("explain/{action_id}") { _, context in
            let actionID = try context.parameters.require("action_id")
            guard let call = try await reads.call(actionID: actionID) else {
                throw APIError(.notFound, "action_id not found")
            }
            // A call's tool results name the call that asked for them, which is an earlier call of its session.
            guard let sessionID = call.sessionID, call.toolResults?.isEmpty == false else { return JSONResponse.record(call) }
            let linked = ToolLinks.link(try await reads.calls(inSession: sessionID))
            return JSONResponse.record(linked.first { $0.actionID == actionID } ?? call)
        }
        router.get("api/sessions") { request, _ in
            let page = try await reads.sessions(try Self.sessionQuery(QueryParameters(request.uri.query)))
            return try JSONResponse.make(page.sessions, headers: [HTTPField.Name("X-Total-Count")!: String(page.total)])
        }
        router.get("api/search") { request, _ in
            JSONResponse.records(try await reads.search(try Self.searchQuery(QueryParameters(request.uri.query))))
        }
        router.get("api/quarantine") { request, _ in
            let page = try await reads.quarantined(limit: try QueryParameters(request.uri.query).limit())
            return try JSONResponse.make(page.records, headers: [HTTPField.Name("X-Total-Count")!: String(page.total)])
        }
        router.get("api/spend") { request, _ in
            JSONResponse.value(
                try await Self.spend(QueryParameters(request.uri.query), store: reads, now: WallClock.nowMicros()))
        }
        router.get("api/fleet") { _, _ in
            let reports = try await reads.sidecars()
            return JSONResponse.value(FleetAnswer.json(reports, now: WallClock.nowMicros()))
        }
        router.get("api/stats") { request, _ in
            let now = WallClock.nowMicros()
            return try JSONResponse.make(try await reads.stats(try Self.statsQuery(QueryParameters(request.uri.query), now: now)))
        }
    }

    /// `GET /api/spend`: spend over a range grouped by one dimension, with what each total leaves out unpriced.
    static func spend(_ parameters: QueryParameters, store: any Store, now: Int64) async throws -> JSONValue {
        let name = parameters.string("group_by") ?? SpendBreakdown.Dimension.model.rawValue
        guard let dimension = SpendBreakdown.Dimension(rawValue: name) else {
            let names = SpendBreakdown.Dimension.allCases.map(\.rawValue).joined(separator: ", ")
            throw APIError(.badRequest, "group_by must be one of \(names)")
        }
        let until = try parameters.time("until") ?? now
        let since = try parameters.time("since") ?? until - StatsQuery.Bucket.day.micros
        guard since <= until else { throw APIError(.badRequest, "since must not be after until") }
        let limit = try parameters.integer("limit", default: 50, range: 1...500)
        let breakdown = try await SpendBreakdown.read(from: store, by: dimension, sinceMicros: since, untilMicros: until)
        return breakdown.json(dimension: dimension, since: since, until: until, limit: limit)
    }

    static func sessionQuery(_ parameters: QueryParameters) throws -> SessionQuery {
        var query = SessionQuery(
            limit: try parameters.limit(), offset: try parameters.integer("offset", default: 0, range: 0...Int(Int32.max)))
        query.agentName = parameters.string("agent", "agent_name")
        query.userID = parameters.string("user", "user_id")
        query.appID = parameters.string("app", "app_id")
        query.environment = parameters.string("environment")
        query.source = parameters.string("source")
        query.sinceMicros = try parameters.time("since")
        query.untilMicros = try parameters.time("until")
        if let since = query.sinceMicros, let until = query.untilMicros, since > until {
            throw APIError(.badRequest, "since must not be after until")
        }
        return query
    }

    static func searchQuery(_ parameters: QueryParameters) throws -> SearchQuery {
        guard let text = parameters.string("q"), !text.allSatisfy(\.isWhitespace) else {
            throw APIError(.badRequest, "q must not be empty")
        }
        return SearchQuery(text: text, limit: try parameters.limit())
    }

    /// Defaults: `until` now, `since` a day before `until`, `bucket` hour; at most `maximumStatsBuckets` buckets.
    static func statsQuery(_ parameters: QueryParameters, now: Int64) throws -> StatsQuery {
        let until = try parameters.time("until") ?? now
        let since = try parameters.time("since") ?? until - StatsQuery.Bucket.day.micros
        guard since <= until else { throw APIError(.badRequest, "since must not be after until") }
        let names = StatsQuery.Bucket.allCases.map(\.rawValue)
        let bucketName = parameters.string("bucket") ?? StatsQuery.Bucket.hour.rawValue
        guard let bucket = StatsQuery.Bucket(rawValue: bucketName) else {
            throw APIError(.badRequest, "bucket must be one of \(names.joined(separator: ", "))")
        }
        let query = StatsQuery(sinceMicros: since, untilMicros: until, bucket: bucket)
        guard query.bucketCount <= maximumStatsBuckets else {
            throw APIError(
                .badRequest, "bucket \(bucket.rawValue) makes more than \(maximumStatsBuckets) buckets from since to until")
        }
        return query
    }

    static let maximumStatsBuckets: Int64 = 10_000
}
