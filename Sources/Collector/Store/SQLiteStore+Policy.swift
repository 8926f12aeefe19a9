import SQLiteNIO

extension SQLiteStore {
    package func policyOverrides() async throws -> [PolicyOverride] {
        let rows = try await reader.query(
            "SELECT kind, scope, key, limit_value FROM policy_overrides ORDER BY updated_at, kind, scope, key")
        return rows.compactMap { row in
            guard let kind = row.column("kind")?.string.flatMap(PolicyOverride.Kind.init(rawValue:)),
                let scope = row.column("scope")?.string, let key = row.column("key")?.string
            else { return nil }
            return PolicyOverride(kind: kind, scope: scope, key: key, limit: row.column("limit_value")?.double)
        }
    }

    package func savePolicyChange(_ change: PolicyChange, override: PolicyOverride?) async throws {
        let target: [SQLiteData] = [
            .text(change.target.kind.rawValue), .text(change.target.scope), .text(change.target.key),
        ]
        try await writeTransaction { writer in
            if let override {
                _ = try await writer.query(
                    """
                    INSERT INTO policy_overrides (kind, scope, key, limit_value, updated_at) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (kind, scope, key) DO UPDATE SET limit_value = excluded.limit_value
                    """,
                    target + [override.limit.map { .float($0) } ?? .null, .integer(Int(change.changedAtMicros))])
            } else {
                _ = try await writer.query(
                    "DELETE FROM policy_overrides WHERE kind = ? AND scope = ? AND key = ?", target)
            }
            _ = try await writer.query(
                """
                INSERT INTO policy_changes (changed_at, actor, client, kind, scope, key, action, before_value, after_value)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [.integer(Int(change.changedAtMicros)), .text(change.actor), .text(change.client)] + target + [
                    .text(change.action.rawValue), change.before.map { .float($0) } ?? .null,
                    change.after.map { .float($0) } ?? .null,
                ])
        }
    }

    package func policyChanges(limit: Int) async throws -> [PolicyChange] {
        let rows = try await reader.query(
            """
            SELECT changed_at, actor, client, kind, scope, key, action, before_value, after_value
            FROM policy_changes ORDER BY id DESC LIMIT ?
            """, [.integer(limit)])
        return rows.compactMap { row in
            guard let kind = row.column("kind")?.string.flatMap(PolicyOverride.Kind.init(rawValue:)),
                let action = row.column("action")?.string.flatMap(PolicyChange.Action.init(rawValue:))
            else { return nil }
            return PolicyChange(
                changedAtMicros: Int64(row.column("changed_at")?.saturatingInteger ?? 0),
                actor: row.column("actor")?.string ?? "", client: row.column("client")?.string ?? "",
                target: .init(kind: kind, scope: row.column("scope")?.string ?? "", key: row.column("key")?.string ?? ""),
                action: action, before: row.column("before_value")?.double, after: row.column("after_value")?.double)
        }
    }
}
