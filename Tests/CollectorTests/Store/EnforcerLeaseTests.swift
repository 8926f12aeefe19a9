import Foundation
import LedgerTestSupport
import Testing

@testable import Collector

extension StoreTests.Postgres {
    /// The enforcer's lease row (docs/operations.md, "One enforcer"): one holder at a time, renewed only by its holder
    /// under its epoch, taken by another only once it has ended, each new holder under the next epoch and with the
    /// reservations the last one wrote.
    @Suite struct EnforcerLease {
        static let timeout = Duration.seconds(5)

        @Test func oneHolderAtATimeEachNewOneUnderTheNextEpoch() async throws {
            try await StoreKind.postgres.withStore { any in
                let store = try #require(any as? PostgresStore)
                let first = try await store.claimLease(
                    holder: "a", address: "10.0.0.1:4600", epoch: nil, ttlMillis: 600, reservations: "[]",
                    timeout: Self.timeout)
                #expect(first == .held(epoch: 1, taken: true, previousHolder: "", previous: "[]"))
                #expect(
                    try await store.claimLease(
                        holder: "b", address: "10.0.0.2:4600", epoch: nil, ttlMillis: 600, reservations: "[]",
                        timeout: Self.timeout) == .heldBy(holder: "a", address: "10.0.0.1:4600", epoch: 1))
                // The holder renews, writing what it holds.
                #expect(
                    try await store.claimLease(
                        holder: "a", address: "10.0.0.1:4600", epoch: 1, ttlMillis: 600, reservations: #"[{"x":1}]"#,
                        timeout: Self.timeout) == .held(epoch: 1, taken: false, previousHolder: "a", previous: ""))
                // It stops renewing: once the lease ends, b takes it under epoch 2 with a's reservations.
                try await Task.sleep(for: .milliseconds(700))
                #expect(
                    try await store.claimLease(
                        holder: "b", address: "10.0.0.2:4600", epoch: nil, ttlMillis: 600, reservations: "[]",
                        timeout: Self.timeout) == .held(epoch: 2, taken: true, previousHolder: "a", previous: #"[{"x":1}]"#))
                // a comes back under its old epoch: the lease is b's now.
                #expect(
                    try await store.claimLease(
                        holder: "a", address: "10.0.0.1:4600", epoch: 1, ttlMillis: 600, reservations: "[]",
                        timeout: Self.timeout) == .heldBy(holder: "b", address: "10.0.0.2:4600", epoch: 2))
            }
        }

        @Test func aHolderThatGivesTheLeaseUpLetsTheNextTakeItAtOnce() async throws {
            try await StoreKind.postgres.withStore { any in
                let store = try #require(any as? PostgresStore)
                _ = try await store.claimLease(
                    holder: "a", address: "a:1", epoch: nil, ttlMillis: 60_000, reservations: "[]", timeout: Self.timeout)
                // Only the holder under its epoch can give it up.
                try await store.releaseLease(holder: "b", epoch: 1, reservations: "[]")
                try await store.releaseLease(holder: "a", epoch: 7, reservations: "[]")
                #expect(
                    try await store.claimLease(
                        holder: "b", address: "b:1", epoch: nil, ttlMillis: 60_000, reservations: "[]",
                        timeout: Self.timeout) == .heldBy(holder: "a", address: "a:1", epoch: 1))
                try await store.releaseLease(holder: "a", epoch: 1, reservations: #"[{"y":2}]"#)
                #expect(
                    try await store.claimLease(
                        holder: "b", address: "b:1", epoch: nil, ttlMillis: 60_000, reservations: "[]",
                        timeout: Self.timeout) == .held(epoch: 2, taken: true, previousHolder: "a", previous: #"[{"y":2}]"#))
            }
        }

        @Test func claimsRacingForAnEndedLeaseLeaveOneHolder() async throws {
            try await StoreKind.postgres.withStore { any in
                let store = try #require(any as? PostgresStore)
                let claims = try await withThrowingTaskGroup(of: PostgresStore.LeaseClaim.self) { group in
                    for index in 0..<8 {
                        group.addTask {
                            try await store.claimLease(
                                holder: "r\(index)", address: "r\(index):1", epoch: nil, ttlMillis: 60_000,
                                reservations: "[]", timeout: Self.timeout)
                        }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                let holders = claims.filter { if case .held = $0 { true } else { false } }
                #expect(holders.count == 1)
                #expect(claims.filter { if case .heldBy(_, _, 1) = $0 { true } else { false } }.count == 7)
            }
        }

        @Test func storedActionIDsNamesOnlyThoseStored() async throws {
            try await StoreKind.postgres.withStore { any in
                let store = try #require(any as? PostgresStore)
                _ = try await store.insert([.stored("kept", at: 1), .stored("other", at: 2)])
                #expect(try await store.storedActionIDs(["kept", "missing"]) == ["kept"])
                #expect(try await store.storedActionIDs([]) == [])
            }
        }
    }
}

extension StoreTests.Postgres.EnforcerLease {
    /// A crashed enforcer restarted on its address takes its lease back at once; a new collector elsewhere waits.
    @Test func aProcessRestartedOnTheHoldersAddressTakesTheLeaseAtOnce() async throws {
        try await StoreKind.postgres.withStore { any in
            let store = try #require(any as? PostgresStore)
            _ = try await store.claimLease(
                holder: "old", address: "10.0.0.1:4600", epoch: nil, ttlMillis: 60_000, reservations: "[]",
                timeout: Self.timeout)
            #expect(
                try await store.claimLease(
                    holder: "elsewhere", address: "10.0.0.2:4600", epoch: nil, ttlMillis: 60_000, reservations: "[]",
                    restarted: true, timeout: Self.timeout) == .heldBy(holder: "old", address: "10.0.0.1:4600", epoch: 1))
            #expect(
                try await store.claimLease(
                    holder: "new", address: "10.0.0.1:4600", epoch: nil, ttlMillis: 60_000, reservations: "[]",
                    restarted: true, timeout: Self.timeout)
                    == .held(epoch: 2, taken: true, previousHolder: "old", previous: "[]"))
        }
    }
}
