import LedgerProtocol
import LedgerTestSupport
import Sidecar
import Testing

/// The collector link over real sockets: records survive a collector that goes away and comes back.
@Suite("Sidecar shipping over real sockets", .serialized, .timeLimit(.minutes(2)))
struct ShippingIntegrationTests {
    static func chatBody(_ index: Int) -> String {
        #"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"call number \#(index)"}]}"#
    }

    @Test func callsMadeWhileTheCollectorIsDownArriveOnceItIsBack() async throws {
        try await SidecarHarness.run { harness in
            let collector = try #require(harness.collector)
            #expect(await harness.linkReady())
            await collector.stop()
            #expect(await Integration.eventually { !harness.shipper.isLinkReady })

            var actionIDs: [String] = []
            for index in 0..<5 {
                let answer = try await harness.send(
                    .POST, "/v1/chat/completions", headers: [("content-type", "application/json")], body: Self.chatBody(index))
                #expect(answer.status == 200)
                if let id = answer.headers.first(name: "x-agentledger-action-id") { actionIDs.append(id) }
            }
            #expect(actionIDs.count == 5)
            #expect(collector.calls.isEmpty)
            #expect(harness.shipper.queuedCalls == 5)

            try await collector.start()
            let arrived = await Integration.eventually(within: .seconds(10)) {
                Set(collector.calls.map(\.actionID)) == Set(actionIDs)
            }
            #expect(arrived, "received \(collector.calls.count) of 5 calls within 10 s of the collector's return")
            #expect(await Integration.eventually { harness.shipper.isIdle })
            #expect(harness.shipper.counters.value(.acknowledged) == 5)
            #expect(harness.shipper.counters.value(.reconnects) >= 1)
        }
    }

    @Test func theLinkTakesTheFirstCollectorListedThatAnswersAndMovesOnWhenItGoes() async throws {
        let standby = try await FakeCollector.started()
        let closed = try await Integration.closedPort()
        // A dead address first, then the harness collector, then the standby: the link skips the dead one at once.
        do {
            try await Self.followTheList(standby: standby, closedPort: closed)
        } catch {
            await standby.stop()
            throw error
        }
        await standby.stop()
    }

    private static func followTheList(standby: FakeCollector, closedPort closed: Int) async throws {
        try await SidecarHarness.run(linkPorts: { [closed, $0, standby.port] }) { harness in
            let first = try #require(harness.collector)
            #expect(await harness.linkReady())
            #expect(first.hellos.count == 1)
            #expect(standby.hellos.isEmpty)

            await first.stop()
            #expect(await Integration.eventually(within: .seconds(10)) { standby.hellos.count == 1 })
            var actionIDs: [String] = []
            for index in 0..<3 {
                let answer = try await harness.send(
                    .POST, "/v1/chat/completions", headers: [("content-type", "application/json")], body: Self.chatBody(index))
                #expect(answer.status == 200)
                if let id = answer.headers.first(name: "x-agentledger-action-id") { actionIDs.append(id) }
            }
            let arrived = await Integration.eventually(within: .seconds(10)) {
                Set(standby.calls.map(\.actionID)) == Set(actionIDs)
            }
            #expect(arrived, "the standby received \(standby.calls.count) of 3 calls")
            #expect(first.calls.isEmpty)

            // The first collector back: the standby goes away, and the link returns to the first in the list.
            try await first.start()
            await standby.stop()
            #expect(await Integration.eventually(within: .seconds(10)) { first.hellos.count == 2 })
            #expect(await Integration.eventually { harness.shipper.isIdle })
        }
    }

    @Test func unacknowledgedBatchIsSentAgainAfterReconnect() async throws {
        try await SidecarHarness.run { harness in
            let collector = try #require(harness.collector)
            #expect(await harness.linkReady())
            await collector.holdAcks(true)
            let answer = try await harness.send(
                .POST, "/v1/chat/completions", headers: [("content-type", "application/json")], body: Self.chatBody(1))
            #expect(answer.status == 200)
            #expect(await Integration.eventually { collector.calls.count == 1 })
            #expect(!harness.shipper.isIdle)

            await collector.stop()
            await collector.holdAcks(false)
            try await collector.start()
            let replayed = await Integration.eventually(within: .seconds(10)) { collector.calls.count == 2 }
            #expect(replayed, "the unacknowledged call was not sent again")
            let ids = collector.calls.map(\.actionID)
            #expect(Set(ids) == [answer.headers.first(name: "x-agentledger-action-id") ?? "?"])
            #expect(await Integration.eventually { harness.shipper.isIdle })
        }
    }
}
