import LedgerProtocol
import Logging
import Testing

@testable import Collector

extension StoreTests {
    /// The fleet view's table (`sidecars`), and `FleetRegistry` writing it, on both stores.
    @Suite struct Fleet {
        static let t0: Int64 = 1_790_000_000_000_000

        @Test(arguments: StoreKind.testable)
        func aSidecarIsLinkedReportsAndDisconnects(kind: StoreKind) async throws {
            try await kind.withStore { store in
                let registry = FleetRegistry(store: store, collectorID: "col-a", logger: Logger(label: "test"))
                registry.linked(
                    source: "pod-1", softwareVersion: "0.1.0", protocolVersion: 2, peer: "10.0.0.5:40000", now: Self.t0)
                await registry.flush()
                var rows = try await store.sidecars()
                #expect(rows.map(\.source) == ["pod-1"])
                #expect(rows.first?.collectorID == "col-a")
                #expect(rows.first?.status == SidecarStatus())
                #expect(rows.first?.state(now: Self.t0 + 1_000_000, silentAfterMicros: 40_000_000) == .linked)
                #expect(rows.first?.state(now: Self.t0 + 41_000_000, silentAfterMicros: 40_000_000) == .silent)

                // Two reports 30 s apart, 60 calls between them: 120 a minute.
                registry.reported(
                    source: "pod-1", status: SidecarStatus([.sentAtMicros: UInt64(Self.t0), .captured: 10, .spoolBytes: 4096]),
                    now: Self.t0 + 1)
                registry.reported(
                    source: "pod-1",
                    status: SidecarStatus([.sentAtMicros: UInt64(Self.t0 + 30_000_000), .captured: 70, .spoolBytes: 0]),
                    now: Self.t0 + 30_000_000)
                await registry.flush()
                rows = try await store.sidecars()
                #expect(rows.first?.callsPerMinute == 120)
                #expect(rows.first?.status[.captured] == 70)
                #expect(rows.first?.lastSeenMicros == Self.t0 + 30_000_000)

                registry.unlinked(source: "pod-1", now: Self.t0 + 31_000_000)
                await registry.flush()
                rows = try await store.sidecars()
                #expect(rows.first?.disconnectedAtMicros == Self.t0 + 31_000_000)
                #expect(rows.first?.state(now: Self.t0 + 31_000_000, silentAfterMicros: 40_000_000) == .disconnected)
                #expect(registry.linkedSources.isEmpty)
            }
        }

        /// A sidecar that moved to another collector stays linked there, whatever the collector it left writes later.
        @Test(arguments: StoreKind.testable)
        func anOlderLinkNeverOverwritesANewerOne(kind: StoreKind) async throws {
            try await kind.withStore { store in
                let a = FleetRegistry(store: store, collectorID: "col-a", logger: Logger(label: "test"))
                let b = FleetRegistry(store: store, collectorID: "col-b", logger: Logger(label: "test"))
                a.linked(source: "pod-1", softwareVersion: "0.1.0", protocolVersion: 2, peer: "p", now: Self.t0)
                await a.flush()
                b.linked(source: "pod-1", softwareVersion: "0.1.0", protocolVersion: 2, peer: "p", now: Self.t0 + 5_000_000)
                await b.flush()
                a.unlinked(source: "pod-1", now: Self.t0 + 6_000_000)
                await a.flush()
                let row = try #require(try await store.sidecars().first)
                #expect(row.collectorID == "col-b")
                #expect(row.disconnectedAtMicros == nil)
            }
        }

        /// Two links under one source (two sidecars sharing a name): the row stays linked until both close.
        @Test(arguments: StoreKind.testable)
        func aSourceWithTwoLinksIsDisconnectedWhenBothClose(kind: StoreKind) async throws {
            try await kind.withStore { store in
                let registry = FleetRegistry(store: store, collectorID: "col-a", logger: Logger(label: "test"))
                for offset in [0, 1] as [Int64] {
                    registry.linked(
                        source: "pod-1", softwareVersion: "0.1.0", protocolVersion: 1, peer: "p", now: Self.t0 + offset)
                }
                registry.unlinked(source: "pod-1", now: Self.t0 + 2)
                await registry.flush()
                let open = try await store.sidecars()
                #expect(open.first?.disconnectedAtMicros == nil)
                registry.unlinked(source: "pod-1", now: Self.t0 + 3)
                await registry.flush()
                let closed = try await store.sidecars()
                #expect(closed.first?.disconnectedAtMicros == Self.t0 + 3)
            }
        }
    }
}
