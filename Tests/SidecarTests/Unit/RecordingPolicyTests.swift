import LedgerProtocol
import NIOHTTP1
import Testing

@testable import Sidecar

/// What a record keeps of a call's headers and target (docs/operations.md, "What is recorded").
@Suite struct RecordingPolicyTests {
    static let secretRequestHeaders = [
        "authorization", "x-api-key", "api-key", "cookie", "x-goog-api-key", "x-litellm-api-key", "x-portkey-api-key",
        "proxy-authorization", "x-auth-token", "openai-api-key", "x-amz-security-token", "x-custom-anything",
        "helicone-auth", "cf-aig-authorization",
    ]

    @Test func onlyAllowListedRequestHeadersAreRecorded() {
        var headers = HTTPHeaders()
        for name in Self.secretRequestHeaders { headers.add(name: name, value: "secret-\(name)") }
        let harmless = [
            ("Content-Type", "application/json"), ("User-Agent", "OpenAI/Python 1.40"), ("anthropic-version", "2023-06-01"),
            ("OpenAI-Beta", "assistants=v2"), ("X-Request-Id", "req-1"), ("x-stainless-lang", "python"),
        ]
        for (name, value) in harmless { headers.add(name: name, value: value) }
        var metadata = CallMetadata()
        var forwarded: [String] = []
        let kept = HeaderPolicy.forward(headers, captured: true, metadata: &metadata) { name, _ in forwarded.append(name) }

        #expect(kept.map(\.name) == harmless.map { $0.0.lowercased() })
        #expect(!kept.contains { $0.value.hasPrefix("secret-") })
        // The request that goes upstream is unchanged: every end-to-end header, secrets included (only the
        // hop-by-hop `proxy-authorization` stays behind, as before).
        #expect(forwarded.count == Self.secretRequestHeaders.count + harmless.count - 1)
        #expect(forwarded.contains("x-goog-api-key"))
    }

    @Test func onlyAllowListedResponseHeadersAreRecorded() {
        var tap = CaptureTap(
            call: CapturedCall(actionID: "a", arrivedAtMicros: 0, method: "POST", path: "/v1/messages", source: "s"),
            started: .now, limit: 10)
        tap.responded(
            status: 200,
            headers: [
                "content-type": "text/event-stream", "request-id": "req_1", "x-ratelimit-remaining-requests": "99",
                "anthropic-ratelimit-tokens-remaining": "1000", "set-cookie": "session=abc", "x-debug-token": "t0ken",
                "www-authenticate": "Bearer realm=x", "x-upstream-key": "k",
            ])
        let names = tap.call.responseHeaders.map { $0.name.lowercased() }
        #expect(
            names == ["content-type", "request-id", "x-ratelimit-remaining-requests", "anthropic-ratelimit-tokens-remaining"])
    }

    @Test(arguments: [
        ("/v1/chat/completions", "/v1/chat/completions"),
        ("/v1/chat/completions?api-version=2024-06-01", "/v1/chat/completions?api-version=2024-06-01"),
        ("/v1beta/models/g:generateContent?key=AIzaSecret&alt=sse", "/v1beta/models/g:generateContent?key=REDACTED&alt=sse"),
        ("/v1/messages?api-key=s1&API_KEY=s2&apikey=s3", "/v1/messages?api-key=REDACTED&API_KEY=REDACTED&apikey=REDACTED"),
        (
            "/v1/responses?access_token=t&sig=s&X-Amz-Signature=x&password=p",
            "/v1/responses?access_token=REDACTED&sig=REDACTED&X-Amz-Signature=REDACTED&password=REDACTED"
        ),
        ("/v1/messages?client%5Fsecret=s&auth=a&flag&=v", "/v1/messages?client%5Fsecret=REDACTED&auth=REDACTED&flag&=v"),
        ("/v1/messages?token=", "/v1/messages?token=REDACTED"),
    ])
    func credentialsInTheQueryAreRedacted(target: String, recorded: String) {
        #expect(RecordedTarget.scrubbed(target) == recorded)
        #expect(CapturedPaths.path(of: RecordedTarget.scrubbed(target)) == CapturedPaths.path(of: target))
    }
}
