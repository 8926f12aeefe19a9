import Collector
import Foundation
import Logging
import Sidecar

/// What a collector on Postgres needs among others of the same store (docs/operations.md, "Several collectors"):
/// where the others reach it when it is the elected enforcer, how long its lease lasts, and a read replica.
extension Runtime {
    /// `AGENTLEDGER_READ_DSN`: a read replica of the Postgres store (a hot standby), for the API, exports and MCP.
    /// Never migrated and never written: ingest, budgets and changes of limits stay on `AGENTLEDGER_DSN`.
    static func readReplica(
        _ options: StoreOptions, primary: PostgresStore?, settings: Settings, logger: Logger
    ) throws -> PostgresStore? {
        guard let dsn = settings.string(options.readDsn, "AGENTLEDGER_READ_DSN") else { return nil }
        guard primary != nil else {
            throw ConfigurationError(description: "AGENTLEDGER_READ_DSN needs AGENTLEDGER_DSN on Postgres too")
        }
        guard dsn.hasPrefix("postgres://") || dsn.hasPrefix("postgresql://") else {
            throw ConfigurationError(description: "AGENTLEDGER_READ_DSN is not a postgres:// address")
        }
        do {
            return PostgresStore(dsn: try PostgresDSN(dsn), logger: logger)
        } catch {
            throw ConfigurationError(description: "AGENTLEDGER_READ_DSN is not a valid Postgres address: \(error)")
        }
    }

    /// `AGENTLEDGER_ADVERTISE_ADDRESS` (where the other collectors reach this one's ingest port; default the ingest
    /// host when it names one, else this machine's host name, with the ingest port) and
    /// `AGENTLEDGER_ENFORCER_LEASE_MS`.
    static func electionConfiguration(
        _ options: StoreOptions, replicaID: String, ingest: IngestServer.Configuration, settings: Settings
    ) throws -> EnforcerElection.Configuration {
        let wildcard = ["0.0.0.0", "::", ""].contains(ingest.host)
        let fallback = CollectorLink.Address(
            host: wildcard ? ProcessInfo.processInfo.hostName : ingest.host, port: ingest.port)
        let advertised = try settings.addresses(
            options.advertiseAddress, "AGENTLEDGER_ADVERTISE_ADDRESS", default: fallback.description)
        guard advertised.count == 1, let address = advertised.first else {
            throw ConfigurationError(description: "AGENTLEDGER_ADVERTISE_ADDRESS takes one host:port, not a list")
        }
        // Written as the sidecar writes a collector's address: `[v6]:port` for IPv6.
        var configuration = EnforcerElection.Configuration(
            replicaID: replicaID, address: CollectorLink.Address(host: address.host, port: address.port).description)
        configuration.lease = .milliseconds(
            try settings.integer(
                options.enforcerLeaseMs, "AGENTLEDGER_ENFORCER_LEASE_MS", default: Defaults.enforcerLeaseMs, in: 1_000...600_000))
        return configuration
    }
}
