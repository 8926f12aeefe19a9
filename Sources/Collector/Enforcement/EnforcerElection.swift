import Foundation
import Logging
import NIOCore
import Prometheus
import ServiceLifecycle

/// Elects one enforcer among the collectors of one Postgres (docs/operations.md, "Several collectors"): a lease
/// row, claimed and renewed on Postgres' clock, with an epoch that goes up with each new holder.
///
/// - The holder renews every `renewInterval`, writing the reservations it holds; it stops judging on its own once
///   `lease - renewInterval` has passed since the start of its last successful renewal, so it has stopped before
///   any other collector can take the lease, even when cut off from Postgres.
/// - A follower tries to take the lease every `renewInterval`; once it has expired, one of them does, reads the
///   spend from the store again and adopts the reservations the last holder wrote (`Enforcer.takeOver`), and only
///   then judges.
/// - On graceful shutdown the holder gives the lease up, so the next collector takes over within one interval. A
///   collector starting on the address the holder advertised takes the lease at once: the holder was its previous
///   process (`PostgresStore.claimLease(restarted:)`).
///
/// A lease and not a session advisory lock: a lock lives as long as its connection, and a collector cut off from
/// Postgres does not learn it lost the lock until TCP gives up (minutes, unless keepalives are tuned on both
/// sides), while the lease's end is a time both sides know. The epoch fences the writes made as the enforcer.
package struct EnforcerElection: Service {
    package struct Configuration: Sendable {
        /// This collector among those of the store.
        package var replicaID: String
        /// Where the others forward ADMITs: this collector's ingest address as they can reach it.
        package var address: String
        /// How long a lease lasts without renewal (`AGENTLEDGER_ENFORCER_LEASE_MS`, default 5 s).
        package var lease: Duration = .seconds(5)
        /// Reservations written with each renewal at most (the newest).
        package var maxHandedOver = 1_000

        /// How often the holder renews and followers try: a fifth of the lease.
        package var renewInterval: Duration { lease / 5 }

        package init(replicaID: String, address: String) {
            self.replicaID = replicaID
            self.address = address
        }
    }

    let configuration: Configuration
    let store: PostgresStore
    let enforcer: Enforcer
    let logger: Logger
    let isEnforcer: Gauge
    let epochGauge: Gauge

    package init(
        configuration: Configuration, store: PostgresStore, enforcer: Enforcer, registry: PrometheusCollectorRegistry,
        logger: Logger
    ) {
        self.configuration = configuration
        self.store = store
        self.enforcer = enforcer
        self.logger = logger
        isEnforcer = registry.makeGauge(
            descriptor: .init("agentledger_enforcer", help: "1 while this collector is the enforcer of its store, else 0."))
        epochGauge = registry.makeGauge(
            descriptor: .init(
                "agentledger_enforcer_epoch", help: "The epoch of the enforcer's lease as this collector last saw it."))
    }

    private var leadership: Leadership { enforcer.leadership }

    package func run() async throws {
        let interval = configuration.renewInterval
        let held = await cancelWhenGracefulShutdown { () -> (epoch: Int64, until: ContinuousClock.Instant)? in
            var held: (epoch: Int64, until: ContinuousClock.Instant)?
            var first = true
            while !Task.isCancelled {
                let started = ContinuousClock.now
                held = await claimOnce(held: held, started: started, restarted: first)
                first = false
                // Wakes before the renewal's deadline too, so a holder cut off from Postgres stops judging in time.
                let next = started + interval
                let wake = held.map { min(next, $0.until) } ?? next
                try? await Task.sleep(until: wake)
                if let current = held, ContinuousClock.now >= current.until {
                    stepDown("the lease was not renewed in time", epoch: current.epoch)
                    held = nil
                }
            }
            return held
        }
        if let held {
            stepDown("shutting down", epoch: held.epoch)
            do {
                try await store.releaseLease(
                    holder: configuration.replicaID, epoch: held.epoch, reservations: handOver())
                logger.info("gave the enforcer's lease up", metadata: ["epoch": "\(held.epoch)"])
            } catch {
                logger.warning(
                    "could not give the enforcer's lease up; another collector takes it when it expires",
                    metadata: ["error": "\(error)"])
            }
        }
    }

    /// One claim: returns the lease this collector holds afterwards, and until when it may act on it.
    private func claimOnce(
        held: (epoch: Int64, until: ContinuousClock.Instant)?, started: ContinuousClock.Instant, restarted: Bool
    ) async -> (epoch: Int64, until: ContinuousClock.Instant)? {
        let lease = configuration.lease
        // The same instant on the clock `Leadership` reads on every ADMIT.
        let fence = NIODeadline.now() + TimeAmount(lease - configuration.renewInterval)
        let claim: PostgresStore.LeaseClaim
        do {
            claim = try await store.claimLease(
                holder: configuration.replicaID, address: configuration.address, epoch: held?.epoch,
                ttlMillis: Int(lease.components.seconds * 1000 + lease.components.attoseconds / 1_000_000_000_000_000),
                reservations: held == nil ? "[]" : handOver(), restarted: restarted, timeout: configuration.renewInterval)
        } catch {
            enforcer.counters.add(.leaseErrors)
            logger.warning("could not claim the enforcer's lease", metadata: ["error": "\(error)"])
            return held  // judged again at its deadline
        }
        let until = started + lease - configuration.renewInterval
        switch claim {
        case .held(let epoch, false, _, _):
            leadership.extend(until: fence)
            return (epoch, until)
        case .held(let epoch, true, let previousHolder, let previous):
            if let held { stepDown("the lease was taken again under a new epoch", epoch: held.epoch) }
            let reservations = Self.decode(previous)
            do {
                try await enforcer.takeOver(adopting: reservations) { try await store.storedActionIDs($0) }
            } catch {
                // Judging on what this collector saw as a follower beats not judging: its spend came from every
                // replica's notifications. The next renewal keeps the lease.
                logger.error(
                    "became the enforcer without reading the spend again", metadata: ["error": "\(error)"])
            }
            guard ContinuousClock.now < until else {
                logger.warning("took the enforcer's lease, but too late to use it", metadata: ["epoch": "\(epoch)"])
                return nil  // taken again, under the next epoch, at the next claim

            }
            leadership.become(.enforcer(epoch: epoch), until: fence)
            enforcer.counters.add(.takeovers)
            isEnforcer.set(to: 1)
            epochGauge.set(to: Double(epoch))
            logger.notice(
                "this collector is now the enforcer",
                metadata: [
                    "epoch": "\(epoch)", "previous": "\(previousHolder.isEmpty ? "none" : previousHolder)",
                    "adopted_reservations": "\(reservations.count)",
                ])
            return (epoch, until)
        case .heldBy(let holder, let address, let epoch):
            if let held { stepDown("another collector holds the lease", epoch: held.epoch) }
            let role = Leadership.Role.follower(enforcer: address.isEmpty ? nil : address, epoch: epoch)
            if leadership.become(role) != role {
                epochGauge.set(to: Double(epoch))
                logger.info("following the enforcer", metadata: ["enforcer": "\(holder)", "address": "\(address)"])
            }
            return nil
        }
    }

    private func stepDown(_ reason: String, epoch: Int64) {
        guard case .enforcer = leadership.become(.follower(enforcer: nil, epoch: epoch)) else { return }
        enforcer.counters.add(.stepDowns)
        isEnforcer.set(to: 0)
        logger.warning("this collector is no longer the enforcer", metadata: ["reason": "\(reason)", "epoch": "\(epoch)"])
    }

    /// The reservations held now, as the next holder reads them.
    private func handOver() -> String {
        let held = enforcer.heldReservations(limit: configuration.maxHandedOver)
        guard !held.isEmpty, let data = try? JSONEncoder().encode(held) else { return "[]" }
        return String(decoding: data, as: UTF8.self)
    }

    static func decode(_ text: String) -> [HeldReservation] {
        (try? JSONDecoder().decode([HeldReservation].self, from: Data(text.utf8))) ?? []
    }
}
