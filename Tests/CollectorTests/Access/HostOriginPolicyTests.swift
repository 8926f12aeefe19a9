import Testing

@testable import Collector

/// `Host` and `Origin` rules: no DNS rebinding without a key, no cross-origin page, curl and probes unaffected.
@Suite struct HostOriginPolicyTests {
    static let open = try! HostOriginPolicy(apiKeySet: false)

    @Test func ipLiteralsAndLocalhostAreAlwaysServed() {
        for host in [
            "127.0.0.1", "127.0.0.1:8000", "10.1.2.3:8080", "[::1]:8000", "[::1]", "localhost", "LOCALHOST:8000",
            "dash.localhost:8000", "localhost.",
        ] {
            #expect(Self.open.refusal(host: host, origin: nil) == nil, "\(host)")
        }
        #expect(Self.open.refusal(host: nil, origin: nil) == nil)
    }

    @Test func aDNSNameIsRefusedWithoutAKeyNamingTheVariable() throws {
        for host in ["evil.example", "evil.example:8000", "127.0.0.1.nip.io:8000", "1.2.3", "0x7f.1", "[zz]:80", ":80"] {
            let refusal = try #require(Self.open.refusal(host: host, origin: nil), "\(host)")
            guard case .host(let message) = refusal else { Issue.record("\(refusal)"); continue }
            #expect(message.contains("AGENTLEDGER_ALLOWED_HOSTS"))
            #expect(message.contains("AGENTLEDGER_API_KEY"))
        }
    }

    @Test func anAPIKeyAcceptsAnyHostUnlessHostsAreListed() throws {
        let keyed = try HostOriginPolicy(apiKeySet: true)
        #expect(keyed.refusal(host: "ledger.internal:8080", origin: nil) == nil)
        let listed = try HostOriginPolicy(allowedHosts: "ledger.internal", apiKeySet: true)
        #expect(listed.refusal(host: "ledger.internal:8080", origin: nil) == nil)
        let refusal = try #require(listed.refusal(host: "evil.example", origin: nil))
        #expect(!refusal.message.contains("AGENTLEDGER_API_KEY"))
    }

    @Test func listedNamesAndWildcards() throws {
        let policy = try HostOriginPolicy(allowedHosts: " Ledger.Internal. , *.corp.example", apiKeySet: false)
        for host in ["ledger.internal", "LEDGER.internal:80", "a.corp.example", "b.a.corp.example:8443"] {
            #expect(policy.refusal(host: host, origin: nil) == nil, "\(host)")
        }
        for host in ["corp.example", "evilcorp.example", "ledger.internal.evil"] {
            #expect(policy.refusal(host: host, origin: nil) != nil, "\(host)")
        }
        let any = try HostOriginPolicy(allowedHosts: "*", apiKeySet: false)
        #expect(any.refusal(host: "anything.example", origin: nil) == nil)
    }

    @Test func sameOriginIsServed() {
        let cases: [(host: String, origin: String)] = [
            ("localhost:8000", "http://localhost:8000"), ("127.0.0.1:8000", "http://127.0.0.1:8000"),
            ("localhost", "http://localhost"), ("localhost:80", "http://localhost"), ("localhost:443", "https://localhost"),
            ("[::1]:8000", "http://[::1]:8000"), ("LocalHost:8000", "HTTP://localhost:8000"),
        ]
        for (host, origin) in cases {
            #expect(Self.open.refusal(host: host, origin: origin) == nil, "\(host) \(origin)")
        }
    }

    @Test func anotherOriginIsRefusedNamingTheVariable() throws {
        let cases: [(host: String, origin: String)] = [
            ("localhost:8000", "https://evil.example"), ("localhost:8000", "http://localhost:3000"),
            ("localhost:8000", "null"), ("127.0.0.1:8000", "http://localhost:8000"), ("localhost:8000", "file://"),
            ("localhost:8000", ""), ("localhost:8000", "http://localhost:8000@evil.example"),
        ]
        for (host, origin) in cases {
            let refusal = try #require(Self.open.refusal(host: host, origin: origin), "\(host) \(origin)")
            guard case .origin(let message) = refusal else { Issue.record("\(refusal)"); continue }
            #expect(message.contains("AGENTLEDGER_ALLOWED_ORIGINS"))
        }
        // Without a Host to compare with, only a listed origin passes.
        #expect(Self.open.refusal(host: nil, origin: "http://localhost:8000") != nil)
    }

    @Test func listedOriginsAndStar() throws {
        let policy = try HostOriginPolicy(
            allowedOrigins: "https://Dash.Example.com/, http://localhost:3000, https://x.example:443", apiKeySet: false)
        #expect(policy.refusal(host: "127.0.0.1:8000", origin: "https://dash.example.com") == nil)
        #expect(policy.refusal(host: "127.0.0.1:8000", origin: "https://dash.example.com:443") == nil)
        #expect(policy.refusal(host: "127.0.0.1:8000", origin: "http://localhost:3000") == nil)
        #expect(policy.refusal(host: "127.0.0.1:8000", origin: "https://x.example") == nil)
        #expect(policy.refusal(host: "127.0.0.1:8000", origin: "http://dash.example.com") != nil)
        #expect(policy.refusal(host: "127.0.0.1:8000", origin: "https://dash.example.com:8443") != nil)
        let any = try HostOriginPolicy(allowedOrigins: "*", apiKeySet: false)
        #expect(any.refusal(host: "127.0.0.1:8000", origin: "null") == nil)
        // A listed origin does not open a DNS name as Host.
        #expect(any.refusal(host: "evil.example", origin: "https://evil.example") != nil)
    }

    @Test func badSettingsNameTheirVariable() {
        for origins in ["dash.example.com", "https://", "http://a/b", "://x", "*x"] {
            #expect(throws: HostOriginPolicy.SettingError.self, "\(origins)") {
                try HostOriginPolicy(allowedOrigins: origins, apiKeySet: false)
            }
            let message = (try? HostOriginPolicy(allowedOrigins: origins, apiKeySet: false)).map { _ in "" }
            #expect(message == nil)
        }
        for hosts in ["https://x.example", "x.example:8000", "a..b", "*", "*."] where hosts != "*" {
            do {
                _ = try HostOriginPolicy(allowedHosts: hosts, apiKeySet: false)
                Issue.record("accepted \(hosts)")
            } catch {
                #expect(error.description.hasPrefix("AGENTLEDGER_ALLOWED_HOSTS: '\(hosts)'"))
            }
        }
    }

    @Test func messagesShowOnlyBoundedPrintableText() throws {
        let refusal = try #require(Self.open.refusal(host: "e\u{1}vil.example" + String(repeating: "a", count: 500), origin: nil))
        #expect(!refusal.message.contains("\u{1}"))
        #expect(refusal.message.count < 300)
    }
}
