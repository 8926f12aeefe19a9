import Testing

@testable import Collector

/// Parsing `AGENTLEDGER_DSN` for Postgres: what is accepted, the defaults, and errors that never show the password.
@Suite struct PostgresDSNTests {
    @Test func aFullAddressIsParsed() throws {
        let dsn = try PostgresDSN("postgresql://ledger:p%40ss%3Aword@db.internal:6543/agentledger?sslmode=verify-full")
        #expect(dsn.host == "db.internal")
        #expect(dsn.port == 6543)
        #expect(dsn.username == "ledger")
        #expect(dsn.password == "p@ss:word")
        #expect(dsn.database == "agentledger")
        #expect(dsn.tlsMode == .verifyFull)
        #expect(dsn.redacted == "postgres://ledger:***@db.internal:6543/agentledger?sslmode=verify-full")
    }

    @Test func defaultsFollowLibpq() throws {
        let dsn = try PostgresDSN("postgres://db")
        #expect(dsn.port == 5432)
        #expect(dsn.username == "postgres")
        #expect(dsn.password == nil)
        #expect(dsn.database == "postgres")
        #expect(dsn.tlsMode == .prefer)
        #expect(try PostgresDSN("postgres://me@db").database == "me")
        #expect(try PostgresDSN("postgres://[::1]:5433/x").host == "::1")
    }

    @Test(arguments: [
        "postgres://", "postgres:///db", "postgres://db/x?sslmode=sometimes", "postgres://db/x?pool=3",
        "postgres://u:secret@db:99999/x", "mysql://db/x",
    ])
    func badAddressesAreRefusedWithoutThePassword(text: String) {
        let error = #expect(throws: StoreError.self) { try PostgresDSN(text) }
        #expect(error?.message.contains("secret") == false)
    }
}
