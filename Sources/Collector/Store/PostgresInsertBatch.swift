import PostgresNIO

/// The batch insert as a named prepared statement: Postgres parses it once per connection instead of once
/// per batch (about 1 ms a batch, which dominates for the small batches of quiet sidecars).
struct PostgresInsertBatch: PostgresPreparedStatement {
    static let name = "agentledger_insert_batch_v5"
    static let sql = PostgresSchema.insertBatch
    typealias Row = String

    let bindings: PostgresBindings

    func makeBindings() throws -> PostgresBindings { bindings }

    /// The statement answers one row per new call: its action id.
    func decodeRow(_ row: PostgresRow) throws -> String { try row.decode(String.self) }
}
