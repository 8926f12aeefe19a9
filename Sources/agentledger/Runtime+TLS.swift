import Collector
import LedgerProtocolNIO
import Sidecar

/// TLS on the ingest link, both ends (docs/operations.md, "TLS on the ingest link").
extension Runtime {
    /// The collector's listener serves TLS when `AGENTLEDGER_INGEST_TLS_CERT` and `_KEY` are set, and requires client
    /// certificates when `AGENTLEDGER_INGEST_TLS_CLIENT_CA` is set too.
    static func applyIngestTLS(_ options: StoreOptions, to ingest: inout IngestServer.Configuration, settings: Settings) throws {
        let certificate = settings.string(options.ingestTlsCert, "AGENTLEDGER_INGEST_TLS_CERT")
        let key = settings.string(options.ingestTlsKey, "AGENTLEDGER_INGEST_TLS_KEY")
        let clientCA = settings.string(options.ingestTlsClientCa, "AGENTLEDGER_INGEST_TLS_CLIENT_CA")
        guard let certificate, let key else {
            if certificate != nil || key != nil || clientCA != nil {
                throw ConfigurationError(
                    description:
                        "AGENTLEDGER_INGEST_TLS_CERT and AGENTLEDGER_INGEST_TLS_KEY are set together (and before "
                        + "AGENTLEDGER_INGEST_TLS_CLIENT_CA): one without the other would serve plaintext")
            }
            return
        }
        do {
            ingest.tls = try LinkTLS.serverContext(certificateChain: certificate, privateKey: key, clientCA: clientCA)
        } catch {
            throw ConfigurationError(description: "AGENTLEDGER_INGEST_TLS_*: \(error.description)")
        }
    }

    /// A follower's link to the enforcer is TLS when the ingest port is: the replicas' shared certificate is shown and
    /// pinned (`LinkTLS.replicaClientContext`).
    static func replicaTLS(_ options: StoreOptions, settings: Settings) throws -> EnforcerForwarder.TLS? {
        guard let certificate = settings.string(options.ingestTlsCert, "AGENTLEDGER_INGEST_TLS_CERT"),
            let key = settings.string(options.ingestTlsKey, "AGENTLEDGER_INGEST_TLS_KEY")
        else { return nil }
        do {
            let (context, pinned) = try LinkTLS.replicaClientContext(certificateChain: certificate, privateKey: key)
            return EnforcerForwarder.TLS(context: context, pinned: pinned)
        } catch {
            throw ConfigurationError(description: "AGENTLEDGER_INGEST_TLS_*: \(error.description)")
        }
    }

    /// The sidecar's link uses TLS when `AGENTLEDGER_COLLECTOR_TLS=true` or any of its TLS files is set.
    static func collectorTLS(_ options: LinkOptions, settings: Settings) throws -> CollectorLink.TLS? {
        let roots = settings.string(options.collectorTlsCa, "AGENTLEDGER_COLLECTOR_TLS_CA")
        let certificate = settings.string(options.collectorTlsCert, "AGENTLEDGER_COLLECTOR_TLS_CERT")
        let key = settings.string(options.collectorTlsKey, "AGENTLEDGER_COLLECTOR_TLS_KEY")
        let serverName = settings.string(options.collectorTlsServerName, "AGENTLEDGER_COLLECTOR_TLS_SERVER_NAME")
        let filesSet = roots != nil || certificate != nil || key != nil || serverName != nil
        let enabled =
            try settings.choice(
                options.collectorTls, "AGENTLEDGER_COLLECTOR_TLS", default: filesSet ? "true" : "false",
                among: ["true", "false"]) == "true"
        guard enabled else {
            if filesSet {
                throw ConfigurationError(
                    description: "AGENTLEDGER_COLLECTOR_TLS=false, but AGENTLEDGER_COLLECTOR_TLS_* settings are given")
            }
            return nil
        }
        do {
            return CollectorLink.TLS(
                context: try LinkTLS.clientContext(trustRoots: roots, certificateChain: certificate, privateKey: key),
                serverName: serverName)
        } catch {
            throw ConfigurationError(description: "AGENTLEDGER_COLLECTOR_TLS_*: \(error.description)")
        }
    }

    /// `up`'s own sidecar has no client certificate to show, so `up` cannot require them. Checked before the store opens.
    static func checkUpIngestTLS(_ options: StoreOptions, settings: Settings) throws {
        guard settings.string(options.ingestTlsClientCa, "AGENTLEDGER_INGEST_TLS_CLIENT_CA") == nil else {
            throw ConfigurationError(
                description:
                    "AGENTLEDGER_INGEST_TLS_CLIENT_CA cannot be used with up: its own sidecar has no client certificate "
                    + "(run collector and sidecar separately to require them)")
        }
    }

    /// `up`'s own sidecar follows its collector: TLS over loopback when the ingest listener serves TLS.
    static func loopbackTLS(for ingest: IngestServer.Configuration) throws -> CollectorLink.TLS? {
        guard ingest.tls != nil else { return nil }
        do {
            return CollectorLink.TLS(context: try LinkTLS.loopbackClientContext(), serverName: nil)
        } catch {
            throw ConfigurationError(description: "TLS for up's own link: \(error.description)")
        }
    }
}
