import LedgerProtocol
import Testing

@testable import Sidecar

@Suite struct ProxyRulesTests {
    @Test(arguments: [
        ("POST", "/v1/chat/completions", true), ("POST", "/v1/chat/completions?x=1", true), ("POST", "/v1/messages", true),
        ("POST", "/v1/responses", true), ("POST", "/v1/messages/", true), ("GET", "/v1/chat/completions", false),
        ("POST", "/v1/messages/count_tokens", false), ("POST", "/v1/embeddings", false), ("POST", "/other/messages", false),
        // Behind a gateway prefix in the agent's own base URL: the path's end decides, as in the collector.
        ("POST", "/openai/v1/chat/completions", true), ("POST", "/proxy/anthropic/v1/messages", true),
        ("POST", "/openai/deployments/prod-4o/chat/completions?api-version=2024-10-21", true),
    ])
    func capturedPaths(method: String, target: String, captured: Bool) {
        #expect(CapturedPaths.captures(method: method, target: target) == captured)
    }

    @Test func metadataHeadersAndTheirAlias() {
        var metadata = CallMetadata()
        for (name, value) in [
            ("x-agentledger-session-id", "run-1"), ("x-agenticledger-agent-name", "writer"), ("x-agentledger-user-id", "u"),
            ("x-agentledger-environment", "prod"), ("x-agentledger-parent-action-id", "p"),
            ("x-agentledger-handoff-from", "a"), ("x-agentledger-handoff-to", "b"), ("x-agentledger-app-id", "app"),
            ("x-agentledger-api-key", "secret"),
        ] {
            let suffix = HeaderPolicy.ownSuffix(name)
            #expect(suffix != nil)
            HeaderPolicy.apply(suffix: suffix!, value: value, to: &metadata)
        }
        #expect(
            metadata
                == CallMetadata(
                    sessionID: "run-1", userID: "u", agentName: "writer", appID: "app", parentActionID: "p",
                    environment: "prod", handoffFrom: "a", handoffTo: "b"))
        #expect(HeaderPolicy.ownSuffix("authorization") == nil)
    }

    @Test func connectionTokensAreHopByHop() {
        #expect(HeaderPolicy.connectionTokens("keep-alive, X-Custom") == ["x-custom"])
        #expect(HeaderPolicy.connectionTokens(" Close ") == ["close"])
        #expect(HeaderPolicy.connectionTokens(nil).isEmpty)
    }

    @Test func hopByHopAndCredentialNames() {
        for name in ["connection", "keep-alive", "te", "trailer", "transfer-encoding", "upgrade", "host", "content-length"] {
            #expect(HeaderPolicy.isHopByHop(name))
        }
        for name in ["authorization", "x-api-key", "api-key", "cookie", "set-cookie"] {
            #expect(HeaderPolicy.isCredential(name))
            #expect(!HeaderPolicy.isHopByHop(name))
        }
        #expect(!HeaderPolicy.isHopByHop("content-type"))
        #expect(!HeaderPolicy.isCredential("content-type"))
    }

    @Test func actionIDsAreVersion7UUIDs() {
        struct Fixed: RandomNumberGenerator {
            mutating func next() -> UInt64 { 0xFFFF_FFFF_FFFF_FFFF }
        }
        var random = Fixed()
        let id = ActionID.make(unixMillis: 0x0123_4567_89AB, random: &random)
        #expect(id == "01234567-89ab-7fff-bfff-ffffffffffff")
        let live = ActionID.make()
        #expect(live.count == 36)
        #expect(Array(live)[14] == "7")
    }

    @Test func backoffIsCappedAndJittered() {
        var backoff = Backoff(baseMillis: 100, capMillis: 1_000)
        var random = SystemRandomNumberGenerator()
        var delays: [Int] = []
        for _ in 0..<10 { delays.append(backoff.nextDelayMillis(using: &random)) }
        #expect(delays[0] >= 50 && delays[0] <= 100)
        #expect(delays.allSatisfy { $0 <= 1_000 })
        #expect(delays[9] >= 500)
        backoff.reset()
        let afterReset = backoff.nextDelayMillis(using: &random)
        #expect(afterReset <= 100)
    }

    @Test func collectorAddressesAreTriedInOrderThenFromTheFirstAgain() {
        var rounds = AddressRounds(count: 3)
        #expect(rounds.current == 0)
        // Failures move on at once until every address has failed; then a wait, and the first again.
        #expect(rounds.advance(linked: false) == false)
        #expect(rounds.current == 1)
        #expect(rounds.advance(linked: false) == false)
        #expect(rounds.current == 2)
        #expect(rounds.advance(linked: false) == true)
        #expect(rounds.current == 0)
        // A link that reached WELCOME and ended: a new round from the first address, after a wait.
        #expect(rounds.advance(linked: false) == false)
        #expect(rounds.advance(linked: true) == true)
        #expect(rounds.current == 0)

        var single = AddressRounds(count: 1)
        #expect(single.advance(linked: false) == true)
        #expect(single.current == 0)
        #expect(single.advance(linked: true) == true)
    }
}
