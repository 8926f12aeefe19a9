import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Requires the API key on every path but an explicit allow-list (docs/reference.md, "Access"): sent as
/// `x-agentledger-api-key` or `Authorization: Bearer`, never taken from a URL, never logged. Proxy headers
/// (`X-Forwarded-For`, `X-Real-IP`, `Forwarded`) are not looked at: no address is trusted.
///
/// Add it to the router before any route: Hummingbird applies middleware only to routes added after it.
package struct APIKeyMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Paths open without a key: liveness and readiness probes.
    package static var probePaths: [String] { ["/healthz", "/readyz"] }

    /// Query parameter names that carry a secret; a request with any of them is refused even when the value is the
    /// key, so a key pasted into a URL (and so into logs, history and referrers) never works.
    package static var secretQueryNames: Set<String> {
        ["api_key", "apikey", "api-key", "key", "token", "access_token", "x-agentledger-api-key"]
    }

    package static var headerName: HTTPField.Name { HTTPField.Name("x-agentledger-api-key")! }

    let key: APIKey
    let exactPaths: Set<String>
    let pathPrefixes: [String]

    /// `openPaths`: exact paths (`/healthz`, `/`) and prefixes written with a trailing `*` (`/assets/*`) served
    /// without the key. A prefix only opens plain file paths below it: no `..`, no empty segment, no escapes.
    package init(key: APIKey, openPaths: [String] = Self.probePaths) {
        self.key = key
        exactPaths = Set(openPaths.filter { !$0.hasSuffix("*") })
        pathPrefixes = openPaths.filter { $0.hasSuffix("*") }.map { String($0.dropLast()) }
    }

    package func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        if Self.carriesSecretInQuery(request.uri.query) { return Self.unauthorized() }
        if isOpen(request.uri.path) || presentsKey(request.headers) { return try await next(request, context) }
        return Self.unauthorized()
    }

    func isOpen(_ path: String) -> Bool {
        if exactPaths.contains(path) { return true }
        guard let prefix = pathPrefixes.first(where: { path.hasPrefix($0) }) else { return false }
        let rest = path.dropFirst(prefix.count)
        let plain = rest.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
                UInt8(ascii: "/"):
                return true
            default: return false
            }
        }
        let segments = rest.split(separator: "/", omittingEmptySubsequences: false)
        return plain && !rest.isEmpty && !segments.contains { $0.isEmpty || $0 == "." || $0 == ".." }
    }

    /// The first `x-agentledger-api-key` and the first `Authorization: Bearer` value are tried; either may match.
    func presentsKey(_ headers: HTTPFields) -> Bool {
        var accepted = false
        if let value = headers[Self.headerName] {
            accepted = key.accepts(value.trimmingCharacters(in: .whitespaces)) || accepted
        }
        if let token = headers[.authorization].flatMap(Self.bearerToken) {
            accepted = key.accepts(token) || accepted
        }
        return accepted
    }

    static func bearerToken(_ authorization: String) -> String? {
        let value = authorization.trimmingCharacters(in: .whitespaces)
        guard value.count > 7, value.prefix(7).lowercased() == "bearer " else { return nil }
        let token = value.dropFirst(7).trimmingCharacters(in: .whitespaces)
        return token.isEmpty ? nil : token
    }

    static func carriesSecretInQuery(_ query: String?) -> Bool {
        guard let query, !query.isEmpty else { return false }
        return query.split(separator: "&").contains { pair in
            let rawName = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)[0]
            let name = String(rawName).replacingOccurrences(of: "+", with: " ")
            let decoded = name.removingPercentEncoding ?? name
            return secretQueryNames.contains(decoded.trimmingCharacters(in: .whitespaces).lowercased())
        }
    }

    static func unauthorized() -> Response {
        let body = ByteBuffer(string: #"{"detail":"Unauthorized"}"#)
        return Response(
            status: .unauthorized,
            headers: [.contentType: "application/json", .wwwAuthenticate: "Bearer", .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: body))
    }
}
