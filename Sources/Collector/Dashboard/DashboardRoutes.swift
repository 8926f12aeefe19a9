import Foundation
import HTTPTypes
import Hummingbird

/// Serves the dashboard: `GET /` is the page, `GET /assets/<file>` its scripts, styles and icon.
///
/// The files hold no data, so they are served without the API key; the page asks for the key when the API answers
/// 401. Every response revalidates (`no-cache` with an `ETag`), so a new binary's dashboard is picked up at once.
package enum DashboardRoutes {
    /// What the page may load: its own files, its own API and `/ws`; no inline script, nothing from elsewhere.
    static let contentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        + "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    package static func add<Context: RequestContext>(to router: Router<Context>) {
        router.get("/") { request, _ in
            response(for: DashboardAssets.index, request: request)
        }
        router.get("assets/{file}") { request, context in
            guard let name = context.parameters.get("file"), let asset = DashboardAssets.named(name) else {
                throw HTTPError(.notFound, message: "no such dashboard file")
            }
            return response(for: asset, request: request)
        }
    }

    /// Whether `path` is the dashboard's (for `up`, which sends every other unknown path to the proxy).
    package static func owns(path: String) -> Bool {
        let path = path.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        return path == "/" || path.isEmpty || path.hasPrefix("/assets/")
    }

    static func response(for asset: DashboardAsset, request: Request) -> Response {
        var headers: HTTPFields = [
            .contentType: asset.contentType, .cacheControl: "no-cache", .eTag: asset.etag,
            .xContentTypeOptions: "nosniff",
        ]
        if asset.name == DashboardAssets.index.name {
            headers[.contentSecurityPolicy] = contentSecurityPolicy
            headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
            headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        }
        let validators = request.headers[values: .ifNoneMatch].flatMap { $0.split(separator: ",") }
        if validators.contains(where: { $0.trimmingCharacters(in: .whitespaces) == asset.etag }) {
            return Response(status: .notModified, headers: headers)
        }
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: asset.body))
    }
}
