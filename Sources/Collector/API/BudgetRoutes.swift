import Foundation
import HTTPTypes
import Hummingbird
import LedgerProtocol

/// `GET /api/budgets` (docs/reference.md, "Budgets"): every budget this collector enforces with the spend and
/// reservations of its keys, closest to its limit first, and every rate limit with its current window. The same
/// answer as the `budgets` MCP tool on `/mcp`.
///
/// With an editor, limits change at run time (docs/reference.md, "Changing limits"): `PUT` and `DELETE` on
/// `/api/budgets/{scope}/{key}` and `/api/rate-limits/{scope}/{key}`, and the audit trail at `GET /api/policy/changes`.
package struct BudgetRoutes: Sendable {
    let enforcer: Enforcer
    let editor: PolicyEditor?

    package init(enforcer: Enforcer, editor: PolicyEditor? = nil) {
        self.enforcer = enforcer
        self.editor = editor
    }

    /// Largest body of a `PUT`: one small JSON object.
    static let maxBodyBytes = 16 << 10
    /// Longest `x-agentledger-actor` kept; longer names are cut.
    static let maxActorBytes = 200

    package func addRoutes<Context: RequestContext>(to router: Router<Context>) {
        router.get("api/budgets") { [enforcer] request, _ in
            let keys = try QueryParameters(request.uri.query).integer("limit", default: BudgetReport.defaultKeys, range: 1...500)
            return try JSONResponse.make(BudgetReport.live(enforcer, keys: keys, now: WallClock.nowMicros()))
        }
        guard let editor else { return }
        for (path, kind, field) in [
            ("api/budgets/{scope}/{key}", PolicyOverride.Kind.budget, "limit_usd"),
            ("api/rate-limits/{scope}/{key}", .rateLimit, "rpm"),
            ("api/token-limits/{scope}/{key}", .tokenLimit, "tpm"),
        ] {
            router.put(RouterPath(stringLiteral: path)) { request, context in
                let target = try Self.target(kind, context)
                let limit = try await Self.limit(in: request, field: field)
                let change = try await Self.editing {
                    try await editor.set(
                        PolicyOverride(kind: kind, scope: target.scope, key: target.key, limit: limit),
                        actor: Self.actor(request), client: Self.client(request))
                }
                return try JSONResponse.make(change.json)
            }
            router.delete(RouterPath(stringLiteral: path)) { request, context in
                let target = try Self.target(kind, context)
                guard
                    let change = try await Self.editing({
                        try await editor.remove(target, actor: Self.actor(request), client: Self.client(request))
                    })
                else {
                    let what = ["rpm": "rate limit", "tpm": "token limit"][field] ?? "budget"
                    throw APIError(.notFound, "no \(what) was set at run time for \(target.scope)/\(target.key)")
                }
                return try JSONResponse.make(change.json)
            }
        }
        router.get("api/policy/overrides") { _, _ in
            try JSONResponse.make(try await editor.current().map(\.json))
        }
        router.get("api/policy/changes") { request, _ in
            let limit = try QueryParameters(request.uri.query).integer("limit", default: 100, range: 1...10_000)
            return try JSONResponse.make(try await editor.changes(limit: limit).map(\.json))
        }
    }

    private static func target<Context: RequestContext>(_ kind: PolicyOverride.Kind, _ context: Context) throws
        -> PolicyOverride.Target
    {
        let scope = try context.parameters.require("scope")
        let key = try context.parameters.require("key")
        return PolicyOverride.Target(
            kind: kind, scope: scope.removingPercentEncoding ?? scope, key: key.removingPercentEncoding ?? key)
    }

    /// The body's limit: `{"limit_usd": 12.5}` or `{"rpm": 600}`; null is no limit.
    private static func limit(in request: Request, field: String) async throws -> Double? {
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: maxBodyBytes)
        } catch {
            throw APIError(.contentTooLarge, "the body must be a JSON object of at most \(maxBodyBytes) bytes")
        }
        guard let object = (try? JSONReader.parse(Array(body.readableBytesView)))?.objectValue, let value = object[field]
        else {
            throw APIError(.badRequest, "the body must be a JSON object with \(field): a number, or null for no limit")
        }
        if value == .null { return nil }
        guard let number = value.doubleValue else {
            throw APIError(.badRequest, "\(field) must be a number, or null for no limit")
        }
        return number
    }

    /// Runs an edit, turning a refused change into 400 and a store failure into 503.
    private static func editing<T>(_ edit: () async throws -> T) async throws -> T {
        do {
            return try await edit()
        } catch let error as PolicyOverrideError {
            throw APIError(.badRequest, error.description)
        } catch let error as APIError {
            throw error
        } catch {
            throw APIError(.serviceUnavailable, "the change could not be stored, nothing was changed: \(error)")
        }
    }

    private static let actorHeader = HTTPField.Name("x-agentledger-actor")!

    /// `x-agentledger-actor`, else `api`: who the audit trail says made the change.
    private static func actor(_ request: Request) -> String {
        guard let name = request.headers[Self.actorHeader], !name.isEmpty else { return "api" }
        return String(decoding: name.utf8.prefix(maxActorBytes), as: UTF8.self)
    }

    /// The request's `User-Agent` (the tool that made the change), cut to `maxActorBytes`.
    private static func client(_ request: Request) -> String {
        String(decoding: (request.headers[.userAgent] ?? "").utf8.prefix(maxActorBytes), as: UTF8.self)
    }
}

extension PolicyOverride {
    /// As the API shows it; a limit of none is `null`, never left out.
    var json: JSONValue {
        .object([
            "kind": .string(kind.rawValue), "scope": .string(scope), "key": .string(key),
            "limit": limit.map(JSONValue.double) ?? .null,
        ])
    }
}

extension PolicyChange {
    /// As the API and the audit trail show it; a limit of none is `null`, never left out.
    var json: JSONValue {
        .object([
            "changed_at": .string(ISOTimestamp.format(micros: changedAtMicros)), "actor": .string(actor),
            "client": .string(client), "kind": .string(target.kind.rawValue), "scope": .string(target.scope),
            "key": .string(target.key), "action": .string(action.rawValue),
            "before": before.map(JSONValue.double) ?? .null, "after": after.map(JSONValue.double) ?? .null,
        ])
    }
}
