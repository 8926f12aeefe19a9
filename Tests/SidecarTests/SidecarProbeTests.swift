import Foundation
import LedgerTestSupport
import NIOHTTP1
import Sidecar
import Testing

/// The sidecar's probes (docs/reference.md, "Sidecar probes"): what each answers, and on real sockets that the
/// proxy answers them itself, follows the collector link in closed mode, and keeps the connection usable.
@Suite("Sidecar probes", .serialized, .timeLimit(.minutes(2)))
struct SidecarProbeTests {
    // MARK: Answers, without sockets

    @Test func probePathsAreRecognisedWithAQueryOrATrailingSlashAndNothingElseIs() {
        #expect(SidecarProbe(path: "/agentledger/healthz") == .health)
        #expect(SidecarProbe(path: "/agentledger/readyz") == .readiness)
        #expect(SidecarProbe(path: "/agentledger/metrics") == nil)
        #expect(SidecarProbe(path: "/healthz") == nil)
        #expect(SidecarProbe(path: "/v1/agentledger/readyz") == nil)
    }

    @Test func healthIsOkWhateverTheCollectorLink() {
        for closed in [false, true] {
            for linked in [false, true] {
                let answer = SidecarProbe.health.answer(method: .GET, refusesWhenCollectorDown: closed, linkReady: linked)
                #expect(answer.status == .ok)
                #expect(answer.body == #"{"status":"ok"}"#)
            }
        }
    }

    @Test func readinessNeedsTheLinkOnlyInClosedMode() throws {
        let open = SidecarProbe.readiness.answer(method: .GET, refusesWhenCollectorDown: false, linkReady: false)
        #expect(open.status == .ok)
        #expect(try Self.json(open.body)["collector_link"] as? String == "down")

        let closedDown = SidecarProbe.readiness.answer(method: .GET, refusesWhenCollectorDown: true, linkReady: false)
        #expect(closedDown.status == .serviceUnavailable)
        let reason = try Self.json(closedDown.body)
        #expect(reason["status"] as? String == "not_ready")
        #expect(reason["reason"] as? String == "collector_unavailable")
        #expect((reason["message"] as? String ?? "").contains("AGENTLEDGER_ON_COLLECTOR_DOWN=closed"))

        let closedUp = SidecarProbe.readiness.answer(method: .HEAD, refusesWhenCollectorDown: true, linkReady: true)
        #expect(closedUp.status == .ok)
        #expect(try Self.json(closedUp.body)["collector_link"] as? String == "up")
    }

    @Test func otherMethodsAreRefusedNotForwarded() {
        for method in [HTTPMethod.POST, .PUT, .DELETE] {
            #expect(
                SidecarProbe.readiness.answer(method: method, refusesWhenCollectorDown: false, linkReady: true).status
                    == .methodNotAllowed)
        }
    }

    // MARK: On a running sidecar

    @Test func theProxyAnswersProbesItselfAndTheUpstreamNeverSeesThem() async throws {
        try await SidecarHarness.run { harness in
            let health = try await harness.send(.GET, "/agentledger/healthz")
            #expect(health.status == 200)
            #expect(health.text == #"{"status":"ok"}"#)
            #expect(health.headers.first(name: "content-type") == "application/json")
            let ready = try await harness.send(.GET, "/agentledger/readyz?verbose=1")
            #expect(ready.status == 200)
            let refused = try await harness.send(.POST, "/agentledger/readyz", body: "{}")
            #expect(refused.status == 405)
            #expect(refused.headers.first(name: "allow") == "GET, HEAD")
            #expect(try await harness.lastUpstreamRequest() == nil)
            // Neither counted as an agent call nor shipped.
            #expect(harness.collector?.calls.isEmpty == true)
        }
    }

    @Test func openModeIsReadyWithoutACollector() async throws {
        try await SidecarHarness.run(collector: false) { harness in
            let ready = try await harness.send(.GET, "/agentledger/readyz")
            #expect(ready.status == 200)
            #expect(ready.text.contains(#""collector_link":"down""#))
        }
    }

    @Test func closedModeIsReadyOnlyWhileLinkedToTheCollector() async throws {
        try await SidecarHarness.run(configure: { $0.refuseWhenCollectorDown = true }) { harness in
            #expect(await harness.linkReady())
            #expect(try await harness.send(.GET, "/agentledger/readyz").status == 200)

            let collector = try #require(harness.collector)
            await collector.stop()
            let down = try await Integration.eventually(within: .seconds(10)) {
                try await harness.send(.GET, "/agentledger/readyz").status == 503
            }
            #expect(down)
            let refused = try await harness.send(.GET, "/agentledger/readyz")
            #expect(refused.text.contains(#""reason":"collector_unavailable""#))
            // Liveness does not follow the collector: restarting the sidecar would not bring it back.
            #expect(try await harness.send(.GET, "/agentledger/healthz").status == 200)

            try await collector.start()
            let back = try await Integration.eventually(within: .seconds(15)) {
                try await harness.send(.GET, "/agentledger/readyz").status == 200
            }
            #expect(back)
        }
    }

    @Test func closedModeWithNoCollectorAtAllIsNotReady() async throws {
        try await SidecarHarness.run(collector: false, configure: { $0.refuseWhenCollectorDown = true }) { harness in
            let ready = try await harness.send(.GET, "/agentledger/readyz")
            #expect(ready.status == 503)
            #expect(ready.headers.first(name: "cache-control") == "no-store")
            #expect(try await harness.send(.GET, "/agentledger/healthz").status == 200)
        }
    }

    @Test func probesShareAKeptAliveConnectionWithProxiedCalls() async throws {
        try await SidecarHarness.run { harness in
            let statuses = try await RawHTTPConnection.run(port: harness.proxyPort, "probes then a call") { connection in
                // Pipelined: two probes, one with a body, then a captured call, on one connection.
                try await connection.send(
                    "GET /agentledger/healthz HTTP/1.1\r\nHost: sidecar\r\n\r\n"
                        + "GET /agentledger/readyz HTTP/1.1\r\nHost: sidecar\r\nContent-Length: 5\r\n\r\nhello"
                        + ProxyServerTests.chatRequest(ProxyIntegrationTests.chatBody))
                var statuses: [Int] = []
                for _ in 0..<3 {
                    guard let response = try await connection.nextResponse() else { break }
                    statuses.append(response.status)
                }
                try await connection.send("HEAD /agentledger/healthz HTTP/1.1\r\nHost: sidecar\r\nConnection: close\r\n\r\n")
                let head = try await connection.remainingUntilClosed()
                let text = String(decoding: head, as: UTF8.self)
                statuses.append(text.hasPrefix("HTTP/1.1 200") && !text.contains(#"{"status""#) ? 200 : 0)
                return statuses
            }
            #expect(statuses == [200, 200, 200, 200])
            #expect(await harness.collected(1).count == 1)
        }
    }

    private static func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }
}
