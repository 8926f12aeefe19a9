import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Collector

/// With `AGENTLEDGER_API_KEY` set, no data path answers without the key, and the key only counts in a header.
@Suite struct APIKeyMiddlewareTests {
    static let secret = "test-key-0123456789"
    static let key = APIKey(secret: secret)!
    static let headerName = HTTPField.Name("x-agentledger-api-key")!

    static let dataPaths = [
        "/api/sessions", "/api/search?q=answer", "/api/stats", "/session/s1", "/explain/c1", "/export/s1",
        "/export/s1/report", "/metrics",
    ]

    static func expectUnauthorized(_ client: any TestClientProtocol, _ uri: String, headers: HTTPFields = [:]) async throws {
        try await client.execute(uri: uri, method: .get, headers: headers) { response in
            #expect(response.status == .unauthorized, "\(uri)")
            #expect(String(buffer: response.body) == #"{"detail":"Unauthorized"}"#, "\(uri)")
        }
    }

    @Test func everyDataPathNeedsTheKey() async throws {
        try await ExportTesting.withAPI(ExportTesting.session, apiKey: Self.key) { client in
            for path in Self.dataPaths + ["/nowhere", "/"] {
                try await Self.expectUnauthorized(client, path)
                try await Self.expectUnauthorized(client, path, headers: [Self.headerName: "wrong"])
                try await Self.expectUnauthorized(client, path, headers: [.authorization: "Bearer wrong"])
                try await Self.expectUnauthorized(client, path, headers: [.authorization: "Basic \(Self.secret)"])
            }
        }
    }

    @Test func theKeyOpensThemInEitherHeader() async throws {
        try await ExportTesting.withAPI(ExportTesting.session, apiKey: Self.key) { client in
            for path in Self.dataPaths {
                for headers: HTTPFields in [
                    [Self.headerName: Self.secret], [.authorization: "Bearer \(Self.secret)"],
                    [.authorization: "bearer \(Self.secret)"],
                ] {
                    try await client.execute(uri: path, method: .get, headers: headers) { response in
                        #expect(response.status == .ok, "\(path) \(headers)")
                    }
                }
            }
            try await client.execute(uri: "/nowhere", method: .get, headers: [Self.headerName: Self.secret]) { response in
                #expect(response.status == .notFound)
            }
        }
    }

    @Test func aKeyInTheURLIsRefusedEvenWhenRight() async throws {
        try await ExportTesting.withAPI(ExportTesting.session, apiKey: Self.key) { client in
            for name in ["api_key", "key", "token", "x-agentledger-api-key", "API_KEY", "api%5Fkey", "access_token"] {
                try await Self.expectUnauthorized(client, "/api/sessions?\(name)=\(Self.secret)")
                try await Self.expectUnauthorized(
                    client, "/api/sessions?limit=1&\(name)=\(Self.secret)", headers: [Self.headerName: Self.secret])
                try await Self.expectUnauthorized(client, "/healthz?\(name)=\(Self.secret)")
            }
        }
    }

    @Test func proxyHeadersGrantNothing() async throws {
        try await ExportTesting.withAPI(ExportTesting.session, apiKey: Self.key) { client in
            for headers: HTTPFields in [
                [HTTPField.Name("X-Forwarded-For")!: "127.0.0.1"], [HTTPField.Name("X-Real-IP")!: "127.0.0.1"],
                [HTTPField.Name("Forwarded")!: "for=127.0.0.1;proto=https"],
                [HTTPField.Name("X-Forwarded-For")!: "::1", HTTPField.Name("X-Forwarded-User")!: "admin"],
            ] {
                try await Self.expectUnauthorized(client, "/api/sessions", headers: headers)
            }
        }
    }

    @Test func probesStayOpen() async throws {
        try await ExportTesting.withAPI(ExportTesting.session, apiKey: Self.key) { client in
            for path in ["/healthz", "/readyz"] {
                try await client.execute(uri: path, method: .get) { response in
                    #expect(response.status == .ok, "\(path)")
                }
            }
        }
    }

    @Test func dashboardPathsOpenOnlyWhenListed() async throws {
        let router = Router()
        router.add(middleware: APIKeyMiddleware(key: Self.key, openPaths: ["/healthz", "/", "/assets/*"]))
        router.get("/") { _, _ in "page" }
        router.get("/assets/{file}") { _, _ in "asset" }
        router.get("/api/sessions") { _, _ in "data" }
        try await Application(router: router).test(.router) { client in
            for path in ["/", "/assets/app.js"] {
                try await client.execute(uri: path, method: .get) { #expect($0.status == .ok, "\(path)") }
            }
            for path in ["/api/sessions", "/assets/", "/assetsx", "/assets/../api/sessions", "/assets/%2e%2e/api"] {
                try await client.execute(uri: path, method: .get) { #expect($0.status == .unauthorized, "\(path)") }
            }
        }
    }

    @Test func openPathRules() {
        let middleware = APIKeyMiddleware<BasicRequestContext>(key: Self.key, openPaths: ["/", "/assets/*"])
        #expect(middleware.isOpen("/"))
        #expect(middleware.isOpen("/assets/js/calls.js"))
        for path in ["", "/api", "/assets", "/assets/", "/assets//x", "/assets/./x", "/assets/a/../../api", "/assets/a%2F"] {
            #expect(!middleware.isOpen(path), "\(path)")
        }
    }
}
