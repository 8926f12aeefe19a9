import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Collector

/// `/` and `/assets/<file>`: the right bytes, types, validators and security headers.
@Suite struct DashboardRoutesTests {
    static func withDashboard(_ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let router = Router()
        DashboardRoutes.add(to: router)
        try await Application(router: router).test(.router, body)
    }

    @Test func theRootIsThePageWithAStrictPolicy() async throws {
        try await Self.withDashboard { client in
            try await client.execute(uri: "/", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                #expect(response.headers[.contentSecurityPolicy]?.contains("script-src 'self'") == true)
                #expect(response.headers[.cacheControl] == "no-cache")
                #expect(String(buffer: response.body).contains("assets/main.js"))
            }
        }
    }

    @Test func assetsHaveTheirTypeAndRevalidate() async throws {
        try await Self.withDashboard { client in
            let etag = try await client.execute(uri: "/assets/main.js", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/javascript; charset=utf-8")
                #expect(response.headers[.xContentTypeOptions] == "nosniff")
                #expect(String(buffer: response.body) == DashboardAssets.named("main.js")?.text)
                return try #require(response.headers[.eTag])
            }
            try await client.execute(uri: "/assets/main.js", method: .get, headers: [.ifNoneMatch: etag]) { response in
                #expect(response.status == .notModified)
                #expect(response.body.readableBytes == 0)
            }
            try await client.execute(uri: "/assets/app.css", method: .get) { response in
                #expect(response.headers[.contentType] == "text/css; charset=utf-8")
            }
        }
    }

    @Test func unknownFilesAreNotFound() async throws {
        try await Self.withDashboard { client in
            for uri in ["/assets/nope.js", "/assets/..%2FPackage.swift", "/assets/"] {
                try await client.execute(uri: uri, method: .get) { response in
                    #expect(response.status == .notFound, "\(uri)")
                }
            }
        }
    }

    @Test func ownsOnlyThePageAndItsAssets() {
        #expect(DashboardRoutes.owns(path: "/"))
        #expect(DashboardRoutes.owns(path: "/?x=1"))
        #expect(DashboardRoutes.owns(path: "/assets/app.css"))
        #expect(!DashboardRoutes.owns(path: "/v1/chat/completions"))
        #expect(!DashboardRoutes.owns(path: "/api/sessions"))
    }
}
