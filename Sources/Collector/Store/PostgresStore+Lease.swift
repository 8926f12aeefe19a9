import PostgresNIO

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
        let read: PostgresQuery = """
            SELECT holder, address, epoch, expires_at <= now(), reservations FROM enforcer_lease
            WHERE name = 'enforcer' FOR UPDATE
            """
        let logger = self.logger
        return try await bounded("claiming the enforcer's lease", timeout: timeout) { client in
            try await client.withTransaction(logger: logger) { connection -> LeaseClaim in
                let rows = try await connection.query(read, logger: logger).decode(
                    (String, String, Int64, Bool, String).self)
                var found: (String, String, Int64, Bool, String)?
                for try await row in rows { found = row }
                guard let (current, currentAddress, currentEpoch, expired, previous) = found else {
                    throw StoreError("the enforcer's lease row is missing")
                }
                if current == holder, currentEpoch == epoch, !expired {
                    let renew: PostgresQuery = """
                        UPDATE enforcer_lease SET expires_at = now() + \(Double(ttlMillis) / 1000) * interval '1 second',
                            reservations = \(reservations)
                        WHERE name = 'enforcer'
                        """
                    _ = try await connection.query(renew, logger: logger)
                    return .held(epoch: currentEpoch, taken: false, previousHolder: current, previous: "")
                }
                guard expired || current == holder || (restarted && currentAddress == address) else {
                    return .heldBy(holder: current, address: currentAddress, epoch: currentEpoch)
                }
                let next = currentEpoch &+ 1
                let take: PostgresQuery = """
                    UPDATE enforcer_lease SET holder = \(holder), address = \(address), epoch = \(next),
                        expires_at = now() + \(Double(ttlMillis) / 1000) * interval '1 second', reservations = '[]'
                    WHERE name = 'enforcer'
                    """
                _ = try await connection.query(take, logger: logger)
                return .held(epoch: next, taken: true, previousHolder: current, previous: previous)
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
        let query = PostgresQuery(unsafeSQL: "SELECT action_id FROM calls WHERE action_id = ANY($1::text[])", binds: binds)
        return try await bounded("reading which calls are stored") { client in
            var stored: Set<String> = []
            for try await id in try await client.query(query).decode(String.self) { stored.insert(id) }
            return stored
        }
    }
}
