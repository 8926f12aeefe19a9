import Sidecar
import Testing

/// `AGENTLEDGER_UPSTREAM_URL` taken apart: scheme, host, port, path prefix and the `Host` header sent upstream.
@Suite("Upstream address")
struct UpstreamAddressTests {
    @Test func httpsWithoutPortUses443AndAHostHeaderWithoutIt() throws {
        let address = try #require(UpstreamAddress("https://api.openai.com"))
        #expect(address.tls)
        #expect(address.host == "api.openai.com")
        #expect(address.port == 443)
        #expect(address.pathPrefix == "")
        #expect(address.hostHeader == "api.openai.com")
    }

    @Test func httpWithoutPortUses80() throws {
        let address = try #require(UpstreamAddress("http://upstream.internal"))
        #expect(!address.tls)
        #expect(address.port == 80)
        #expect(address.hostHeader == "upstream.internal")
    }

    @Test func schemeIsCaseInsensitive() throws {
        let address = try #require(UpstreamAddress("HTTPS://api.anthropic.com"))
        #expect(address.tls)
        #expect(address.port == 443)
    }

    @Test func explicitPortIsUsedAndNamedInTheHostHeader() throws {
        let address = try #require(UpstreamAddress("http://127.0.0.1:8080"))
        #expect(address.host == "127.0.0.1")
        #expect(address.port == 8080)
        #expect(address.hostHeader == "127.0.0.1:8080")
    }

    @Test func explicitDefaultPortIsLeftOutOfTheHostHeader() throws {
        #expect(UpstreamAddress("https://api.openai.com:443")?.hostHeader == "api.openai.com")
        #expect(UpstreamAddress("http://upstream.internal:80")?.hostHeader == "upstream.internal")
    }

    @Test func theOtherSchemesDefaultPortIsNamedInTheHostHeader() throws {
        let address = try #require(UpstreamAddress("http://upstream.internal:443"))
        #expect(!address.tls)
        #expect(address.port == 443)
        #expect(address.hostHeader == "upstream.internal:443")
    }

    @Test(arguments: [
        ("https://gateway.example/openai/v1", "/openai/v1"),
        ("https://gateway.example/openai/v1/", "/openai/v1"),
        ("https://gateway.example/openai//", "/openai"),
        ("https://gateway.example/", ""),
        ("https://gateway.example", ""),
    ])
    func pathPrefixLosesItsTrailingSlashes(url: String, prefix: String) throws {
        let address = try #require(UpstreamAddress(url))
        #expect(address.pathPrefix == prefix)
        #expect(address.host == "gateway.example")
    }

    @Test func ipv6LiteralIsUnbracketedForConnectingAndBracketedInTheHostHeader() throws {
        let address = try #require(UpstreamAddress("http://[::1]:8080/x"))
        #expect(!address.tls)
        #expect(address.host == "::1")
        #expect(address.port == 8080)
        #expect(address.pathPrefix == "/x")
        #expect(address.hostHeader == "[::1]:8080")
    }

    @Test func ipv6LiteralOnTheDefaultPortKeepsItsBrackets() throws {
        let address = try #require(UpstreamAddress("https://[2001:db8::1]"))
        #expect(address.host == "2001:db8::1")
        #expect(address.port == 443)
        #expect(address.hostHeader == "[2001:db8::1]")
    }

    @Test(arguments: ["ftp://x", "not a url", "http://", "https://", "", "api.openai.com", "//api.openai.com/v1"])
    func rejectsWhatIsNotAnHTTPURLWithAHost(url: String) {
        #expect(UpstreamAddress(url) == nil)
    }
}
