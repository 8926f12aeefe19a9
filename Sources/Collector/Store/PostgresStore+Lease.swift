import PostgresNIO
import Synchronization

/// The enforcer's lease (docs/operations.md, "Several collectors"): one row, claimed and renewed in a transaction
/// that locks it, on Postgres' clock, so the collectors' clocks never have to agree.
extension PostgresStore {
    /// What a claim of the lease found.
    package enum LeaseClaim: Sendable, Equatable {
        /// This collector holds the lease (renewed, or newly taken) under `epoch`. On a new lease, `previous` is what
        /// the last holder wrote of its reservations (JSON, `HeldReservation`s), and `previousHolder` who it was.
        case held(epoch: Int64, taken: Bool, previousHolder: String, previous: String)
        /// Another collector holds it until it expires.
        case heldBy(holder: String, address: String, epoch: Int64)
    }

    /// Renews the lease when this collector (`holder`) holds it under `epoch`, or takes it when it has expired (or
    /// is this collector's under an older epoch): the epoch then goes up by one. `reservations` is written with a
    /// renewal: what the next holder adopts. The lease lasts `ttlMillis` from Postgres' now.
    ///
    /// `restarted`: this process has just started and listens on `address`. A lease held at that same address was
    /// its previous process's (two processes cannot listen on one port), gone without giving it up: it is taken at
    /// once instead of after it ends, so a crashed enforcer restarted in place enforces again within a second.
    package func claimLease(
        holder: String, address: String, epoch: Int64?, ttlMillis: Int, reservations: String, restarted: Bool = false,
        timeout: Duration
    ) async throws -> LeaseClaim {
        // One statement, so no lock outlives it: a claimer cut off from Postgres in the middle of a transaction of
        // several statements would keep the row locked, and every other collector from taking over, until Postgres
        // noticed (minutes). The row is read as it was (`previous`) and updated when this collector renews or may take
        // it; the epoch stays on a renewal and goes up by one on a new holder.
        let seconds = Double(ttlMillis) / 1000
        let query: PostgresQuery = """
            WITH previous AS (
                SELECT holder, address, epoch, expires_at <= now() AS expired, reservations
                FROM enforcer_lease WHERE name = 'enforcer' FOR UPDATE
            ), claimed AS (
                UPDATE enforcer_lease SET
                    holder = \(holder), address = \(address),
                    epoch = CASE WHEN p.holder = \(holder) AND p.epoch = \(epoch) AND NOT p.expired
                        THEN p.epoch ELSE p.epoch + 1 END,
                    expires_at = now() + \(seconds) * interval '1 second',
                    reservations = CASE WHEN p.holder = \(holder) AND p.epoch = \(epoch) AND NOT p.expired
                        THEN \(reservations) ELSE '[]' END
                FROM previous p
                WHERE enforcer_lease.name = 'enforcer'
                    AND (p.expired OR p.holder = \(holder) OR (\(restarted) AND p.address = \(address)))
                RETURNING enforcer_lease.epoch
            )
            SELECT p.holder, p.address, p.epoch, p.reservations, (SELECT epoch FROM claimed) FROM previous p
            """
        let logger = self.logger
        let row = try await abandoning(after: timeout, "claiming the enforcer's lease") { client in
            var found: (String, String, Int64, String, Int64?)?
            for try await row in try await client.query(query, logger: logger).decode(
                (String, String, Int64, String, Int64?).self)
            {
                found = row
            }
            return found
        }
        guard let (current, currentAddress, currentEpoch, previous, claimed) = row else {
            throw StoreError("the enforcer's lease row is missing")
        }
        guard let claimed else { return .heldBy(holder: current, address: currentAddress, epoch: currentEpoch) }
        if claimed == currentEpoch {
            return .held(epoch: claimed, taken: false, previousHolder: current, previous: "")
        }
        return .held(epoch: claimed, taken: true, previousHolder: current, previous: previous)
    }

    /// Runs `body` on the pool and gives up waiting for it after `timeout`, even when it does not end (a query on a
    /// connection Postgres no longer answers): the election's next claim must not wait behind it.
    private func abandoning<T: Sendable>(
        after timeout: Duration, _ what: String, _ body: @escaping @Sendable (PostgresClient) async throws -> T
    ) async throws -> T {
        let client = self.client
        let outcome = FirstOutcome<T>()
        return try await withCheckedThrowingContinuation { continuation in
            outcome.waiting.withLock { $0 = continuation }
            let work = Task {
                let result: Result<T, any Error>
                do {
                    result = .success(try await body(client))
                } catch {
                    result = .failure(StoreError("\(what) failed: \(Self.describe(error))"))
                }
                outcome.waiting.withLock { $0.take() }?.resume(with: result)
            }
            Task {
                try? await Task.sleep(for: timeout)
                if let waiting = outcome.waiting.withLock({ $0.take() }) {
                    work.cancel()
                    waiting.resume(throwing: StoreError("\(what) failed: Postgres did not answer within \(timeout)"))
                }
            }
        }
    }

    /// Gives the lease up at once (a graceful shutdown), if this collector still holds it under `epoch`, keeping
    /// what it holds of reservations for the next holder.
    package func releaseLease(holder: String, epoch: Int64, reservations: String) async throws {
        let query: PostgresQuery = """
            UPDATE enforcer_lease SET expires_at = '-infinity', reservations = \(reservations)
            WHERE name = 'enforcer' AND holder = \(holder) AND epoch = \(epoch)
            """
        try await bounded("giving the enforcer's lease up", timeout: .seconds(2)) { client in
            _ = try await client.query(query)
        }
    }

    /// Those of `actionIDs` the store holds.
    package func storedActionIDs(_ actionIDs: [String]) async throws -> Set<String> {
        guard !actionIDs.isEmpty else { return [] }
        var binds = PostgresBindings()
        binds.append(actionIDs)
        let query = PostgresQuery(unsafeSQL: "SELECT action_id FROM call_ids WHERE action_id = ANY($1::text[])", binds: binds)
        return try await bounded("reading which calls are stored") { client in
            var stored: Set<String> = []
            for try await id in try await client.query(query).decode(String.self) { stored.insert(id) }
            return stored
        }
    }
}

/// Who resumes first, the work or the timeout: the other finds nothing to resume.
private final class FirstOutcome<T: Sendable>: Sendable {
    let waiting = Mutex<CheckedContinuation<T, any Error>?>(nil)
}
