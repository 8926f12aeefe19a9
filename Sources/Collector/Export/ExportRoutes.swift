import Foundation
import HTTPTypes
import Hummingbird
import LedgerProtocol
import NIOCore

/// `GET /export/{session_id}` (the JSON audit export) and `GET /export/{session_id}/report` (its printable HTML
/// report), docs/reference.md, "Exports".
package struct ExportRoutes: Sendable {
    let store: any Store
    let hmacKey: String?
    let generator: String
    let now: @Sendable () -> Int64

    /// `hmacKey` is `AGENTLEDGER_EXPORT_HMAC_KEY` (nil or empty: exports are not signed); `version` is the
    /// product version written in `generator`.
    package init(
        store: any Store, hmacKey: String?, version: String,
        now: @escaping @Sendable () -> Int64 = WallClock.nowMicros
    ) {
        self.store = store
        self.hmacKey = hmacKey?.isEmpty == false ? hmacKey : nil
        self.generator = "agentledger \(version)"
        self.now = now
    }

    /// The first path segment these routes own (for `CollectorAPI.ownedPrefixes` in `up` mode).
    package static let pathPrefix: Substring = "export"

    package func addRoutes<Context: RequestContext>(to router: Router<Context>) {
        router.get("export/{session_id}") { _, context in
            let export = try await self.export(try context.parameters.require("session_id"))
            var headers = Self.privateHeaders
            headers[.contentType] = "application/json"
            return Response(
                status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: try export.document())))
        }
        router.get("export/{session_id}/report") { _, context in
            let export = try await self.export(try context.parameters.require("session_id"))
            var headers = Self.privateHeaders
            headers[.contentType] = "text/html; charset=utf-8"
            headers[.contentSecurityPolicy] = AuditReport.contentSecurityPolicy
            let html = AuditReport(export: export).html()
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
        }
    }

    func export(_ sessionID: String) async throws -> AuditExport {
        let calls = try await store.calls(inSession: sessionID)
        guard
            let export = try AuditExport(
                sessionID: sessionID, calls: calls, generatedAtMicros: now(), generator: generator, hmacKey: hmacKey)
        else { throw APIError(.notFound, "session_id not found") }
        return export
    }

    /// Audit data is not for shared caches, and is never sniffed as another type.
    private static let privateHeaders: HTTPFields = [.cacheControl: "no-store", .xContentTypeOptions: "nosniff"]
}
