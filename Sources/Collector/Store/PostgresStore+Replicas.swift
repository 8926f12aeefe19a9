import Logging
import NIOCore
import PostgresNIO

/// How collectors on one Postgres learn of each other's calls (docs/operations.md, "Several collectors"): after each
/// insert a collector sends `NOTIFY agentledger_calls` with its replica id and the action ids it stored; every
/// collector LISTENs on a connection of its own and reads the calls other replicas stored. Payloads carry ids only,
/// never content, and stay under Postgres' 8,000-byte limit.
extension PostgresStore {
    /// The channel every collector of a store notifies and listens on.
    package static let callsChannel = "agentledger_calls"
    /// What follows the replica id in a notification that the limits set at run time changed (`PolicyEditor`), where
    /// action ids would be: no action id is this (ids are never empty and `#` starts none the sidecar makes; a
    /// hostile one only causes a reload of the limits).
    static let policyChangedMarker = "#policy"
    /// Payload bytes per notification at most: Postgres refuses 8,000 and more.
    static let maximumPayloadBytes = 7_900

    /// One notification: the replica that stored the calls, and their action ids.
    package struct StoredCalls: Sendable, Equatable {
        package var replica: String
        package var actionIDs: [String]

        package init(replica: String, actionIDs: [String]) {
            self.replica = replica
            self.actionIDs = actionIDs
        }

        /// `replica` then a newline, then the ids separated by commas, as few payloads as fit.
        package static func payloads(replica: String, actionIDs: some Collection<String>) -> [String] {
            var payloads: [String] = []
            var current = replica + "\n"
            var empty = true
            for id in actionIDs {
                if !empty && current.utf8.count + 1 + id.utf8.count > maximumPayloadBytes {
                    payloads.append(current)
                    current = replica + "\n"
                    empty = true
                }
                if !empty { current += "," }
                current += id
                empty = false
            }
            if !empty { payloads.append(current) }
            return payloads
        }

        /// Nil for a payload that is not one of ours.
        package init?(payload: String) {
            guard let newline = payload.firstIndex(of: "\n") else { return nil }
            replica = String(payload[..<newline])
            actionIDs = payload.utf8[payload.utf8.index(after: newline)...].split(separator: UInt8(ascii: ","))
                .map { String(Substring($0)) }
            guard !replica.isEmpty, !actionIDs.isEmpty else { return nil }
        }
    }

    /// Tells the other collectors which calls this one just stored. One round trip for the whole batch; a failure is
    /// logged and otherwise ignored: the calls are stored, only the other replicas' live views and budgets miss them.
    func announce(_ actionIDs: Set<String>, replica: String) async {
        let payloads = StoredCalls.payloads(replica: replica, actionIDs: actionIDs)
        guard !payloads.isEmpty else { return }
        var binds = PostgresBindings()
        binds.append(Self.callsChannel)
        binds.append(payloads)
        let query = PostgresQuery(unsafeSQL: "SELECT pg_notify($1, payload) FROM unnest($2::text[]) AS payload", binds: binds)
        do {
            try await bounded("announcing stored calls") { client in _ = try await client.query(query).collect() }
        } catch {
            logger.warning("could not announce stored calls to other collectors", metadata: ["error": "\(error)"])
        }
    }

    /// Listens on `callsChannel` over a connection of its own and hands each notification of another replica than
    /// `ownReplica` to `body`, in order, until the connection fails (it throws) or the task is cancelled (it returns).
    /// A collector's own notifications come back to it too: they are skipped by their prefix, before any parsing.
    /// `policyChanged` is called for each notification that another replica changed the limits set at run time.
    package func listenForStoredCalls(
        skipping ownReplica: String, policyChanged: () async -> Void = {}, _ body: (StoredCalls) async -> Void
    ) async throws {
        let ownPrefix = ownReplica + "\n"
        var configuration = try dsn.connectionConfiguration()
        configuration.options.connectTimeout = TimeAmount(options.connectTimeout)
        let connection = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
        do {
            try await connection.listen(on: Self.callsChannel) { notifications in
                for try await notification in notifications {
                    guard !notification.payload.hasPrefix(ownPrefix) else { continue }
                    if notification.payload.hasSuffix("\n" + Self.policyChangedMarker) {
                        await policyChanged()
                        continue
                    }
                    guard let calls = StoredCalls(payload: notification.payload) else { continue }
                    await body(calls)
                }
            }
        } catch {
            try? await connection.close()
            if Task.isCancelled { return }
            throw error
        }
        try? await connection.close()
    }
}
