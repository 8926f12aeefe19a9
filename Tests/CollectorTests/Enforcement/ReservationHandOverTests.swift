import Foundation
import Testing

@testable import Collector

/// What one enforcer hands the next through Postgres (docs/operations.md, "Failover"): the reservations it holds,
/// which the next one holds until their records arrive or their lifetime ends, never twice, never as spend.
@Suite struct ReservationHandOverTests {
    static let morning = EnforcementStateTests.morning
    static let second: Int64 = 1_000_000
    static let lifetime = 60 * second

    static func ledger() -> SpendLedger {
        SpendLedger(now: morning, scopes: [.fleet, .agent])
    }

    @Test func adoptedReservationsAreHeldUntilTheirRecordsArrive() throws {
        var old = Self.ledger()
        let keys = SpendLedger.Keys(agentName: "researcher")
        old.reserve("call-1", amount: Nanodollars(300), keys: keys, now: Self.morning, lifetime: Self.lifetime)
        old.reserve("call-2", amount: Nanodollars(500), keys: keys, now: Self.morning + Self.second, lifetime: Self.lifetime)
        let handed = old.heldReservations(limit: 10)
        #expect(handed.map(\.actionID) == ["call-2", "call-1"], "newest first")
        // Through the lease row as JSON, as the election writes and reads it.
        let text = String(decoding: try JSONEncoder().encode(handed), as: UTF8.self)
        let read = EnforcerElection.decode(text)
        #expect(read == handed)

        var next = Self.ledger()
        let now = Self.morning + 2 * Self.second
        next.adopt(read, now: now, lifetime: Self.lifetime)
        #expect(next.committed(.agent, "researcher") == Nanodollars(800))
        #expect(next.committed(.fleet, "") == Nanodollars(800))
        // The record of call-1 arrives: its reservation goes, its real cost counts.
        next.settle("call-1", cost: Nanodollars(200), keys: keys, arrivedAt: now, now: now)
        #expect(next.committed(.agent, "researcher") == Nanodollars(700))
        // call-2 was stored before the takeover (its cost already counted): released without counting again.
        next.release("call-2")
        #expect(next.committed(.agent, "researcher") == Nanodollars(200))
        #expect(next.reservationCount == 0)
    }

    @Test func anAdoptedReservationLivesOnlyTheRestOfItsLifetime() {
        var old = Self.ledger()
        old.reserve("early", amount: Nanodollars(100), keys: .init(), now: Self.morning, lifetime: Self.lifetime)
        old.reserve(
            "late", amount: Nanodollars(100), keys: .init(), now: Self.morning + 50 * Self.second, lifetime: Self.lifetime)
        var next = Self.ledger()
        let takeover = Self.morning + 55 * Self.second
        next.adopt(old.heldReservations(limit: 10), now: takeover, lifetime: Self.lifetime)
        #expect(next.committed(.fleet, "") == Nanodollars(200))
        _ = next.sweep(now: Self.morning + 61 * Self.second, sessionIdle: Self.lifetime)
        #expect(next.committed(.fleet, "") == Nanodollars(100), "early ended 60 s after it was made, not after adoption")
        // One already past its lifetime is not adopted at all.
        var later = Self.ledger()
        later.adopt(old.heldReservations(limit: 10), now: Self.morning + 70 * Self.second, lifetime: Self.lifetime)
        #expect(later.committed(.fleet, "") == Nanodollars(100))
    }

    @Test func aReservationHeldAlreadyIsNotAdoptedTwice() {
        var ledger = Self.ledger()
        ledger.reserve("call", amount: Nanodollars(100), keys: .init(), now: Self.morning, lifetime: Self.lifetime)
        let held = ledger.heldReservations(limit: 10)
        ledger.adopt(held, now: Self.morning + Self.second, lifetime: Self.lifetime)
        #expect(ledger.committed(.fleet, "") == Nanodollars(100))
        #expect(ledger.reservationCount == 1)
    }

    @Test func theHandOverIsCappedAtTheNewestStillHeld() {
        var ledger = Self.ledger()
        for index in 0..<20 {
            ledger.reserve(
                "call-\(index)", amount: Nanodollars(Int64(index)), keys: .init(), now: Self.morning + Int64(index),
                lifetime: Self.lifetime)
        }
        ledger.settle("call-19", cost: .zero, keys: .init(), arrivedAt: Self.morning, now: Self.morning + 20)
        #expect(ledger.heldReservations(limit: 3).map(\.actionID) == ["call-18", "call-17", "call-16"])
    }

    /// ADMITs whose records never come cannot grow the ledger without bound: past the cap the oldest goes.
    @Test func pastTheCapTheOldestReservationIsReleased() {
        var ledger = Self.ledger()
        ledger.maxReservations = 3
        for index in 0..<5 {
            ledger.reserve(
                "call-\(index)", amount: Nanodollars(10), keys: .init(), now: Self.morning + Int64(index),
                lifetime: Self.lifetime)
        }
        #expect(ledger.reservationCount == 3)
        #expect(ledger.committed(.fleet, "") == Nanodollars(30))
        #expect(ledger.takeEvicted() == 2)
        #expect(ledger.takeEvicted() == 0)
        #expect(ledger.heldReservations(limit: 10).map(\.actionID) == ["call-4", "call-3", "call-2"])
    }

    @Test(arguments: ["", "not json", "{}", "[{\"a\": 1}]"])
    func aHandOverThatCannotBeReadAdoptsNothing(text: String) {
        #expect(EnforcerElection.decode(text).isEmpty)
    }
}
