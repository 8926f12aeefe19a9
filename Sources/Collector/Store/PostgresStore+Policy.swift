import PostgresNIO

extension PostgresStore {
    package func policyOverrides() async throws -> [PolicyOverride] {
        let query: PostgresQuery =
            "SELECT kind, scope, key, limit_value FROM policy_overrides ORDER BY updated_at, kind, scope, key"
        return try await bounded("reading the limits set at run time") { client in
            var overrides: [PolicyOverride] = []
            for try await (kind, scope, key, limit) in try await client.query(query).decode(
                (String, String, String, Double?).self)
            {
                guard let kind = PolicyOverride.Kind(rawValue: kind) else { continue }
                overrides.append(PolicyOverride(kind: kind, scope: scope, key: key, limit: limit))
            }
            return overrides
        }
    }

    package func savePolicyChange(_ change: PolicyChange, override: PolicyOverride?) async throws {
        let (kind, scope, key) = (
            change.target.kind.rawValue, PostgresCallColumns.withoutNUL(change.target.scope),
            PostgresCallColumns.withoutNUL(change.target.key)
        )
        let (actor, client) = (PostgresCallColumns.withoutNUL(change.actor), PostgresCallColumns.withoutNUL(change.client))
        let at = change.changedAtMicros
        let write: PostgresQuery =
            if let override {
                """
                INSERT INTO policy_overrides (kind, scope, key, limit_value, updated_at)
                VALUES (\(kind), \(scope), \(key), \(override.limit), \(at))
                ON CONFLICT (kind, scope, key) DO UPDATE SET limit_value = excluded.limit_value
                """
            } else {
                "DELETE FROM policy_overrides WHERE kind = \(kind) AND scope = \(scope) AND key = \(key)"
            }
        let audit: PostgresQuery = """
            INSERT INTO policy_changes (changed_at, actor, client, kind, scope, key, action, before_value, after_value)
            VALUES (\(at), \(actor), \(client), \(kind), \(scope), \(key), \(change.action.rawValue), \(change.before),
                \(change.after))
            """
        // The other collectors of the store reload their limits when this commits (`ReplicaFeed`).
        let notify: PostgresQuery =
            "SELECT pg_notify(\(Self.callsChannel), \((options.replicaID ?? "") + "\n" + Self.policyChangedMarker))"
        try await bounded("saving a change of limits") { client in
            try await client.withTransaction(logger: self.logger) { connection in
                _ = try await connection.query(write, logger: self.logger)
                _ = try await connection.query(audit, logger: self.logger)
                _ = try await connection.query(notify, logger: self.logger)
            }
        }
    }

    package func policyChanges(limit: Int) async throws -> [PolicyChange] {
        let query: PostgresQuery = """
            SELECT changed_at, actor, client, kind, scope, key, action, before_value, after_value
            FROM policy_changes ORDER BY id DESC LIMIT \(limit)
            """
        return try await bounded("reading the changes of limits") { client in
            var changes: [PolicyChange] = []
            let rows = try await client.query(query).decode(
                (Int64, String, String, String, String, String, String, Double?, Double?).self)
            for try await (at, actor, address, kind, scope, key, action, before, after) in rows {
                guard let kind = PolicyOverride.Kind(rawValue: kind), let action = PolicyChange.Action(rawValue: action)
                else { continue }
                changes.append(
                    PolicyChange(
                        changedAtMicros: at, actor: actor, client: address, target: .init(kind: kind, scope: scope, key: key),
                        action: action, before: before, after: after))
            }
            return changes
        }
    }
}
