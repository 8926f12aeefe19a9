import Logging

/// The banner's warnings (issue 14 item 14): a listener other hosts can reach that asks for no secret. Logged at
/// `warning` when the command starts serving (docs/operations.md, "Start-up").
enum OpenListenerWarnings {
    /// `http`: where the dashboard and API are served, and whether `AGENTLEDGER_API_KEY` is set; `ingest`: the
    /// ingest listener, and whether sidecars must present a token.
    static func lines(http: (Listener, keySet: Bool)?, ingest: (Listener, tokenSet: Bool)?) -> [String] {
        var lines: [String] = []
        if let (listener, keySet) = http, listener.isReachableFromOtherHosts, !keySet {
            lines.append(
                "the dashboard and API on \(listener.host):\(listener.port) are reachable from other hosts and "
                    + "AGENTLEDGER_API_KEY is not set: anyone who can reach this port can read every call")
        }
        if let (listener, tokenSet) = ingest, listener.isReachableFromOtherHosts, !tokenSet {
            lines.append(
                "the ingest listener on \(listener.host):\(listener.port) is reachable from other hosts and "
                    + "AGENTLEDGER_INGEST_TOKEN is not set: anyone who can reach this port can write records")
        }
        return lines
    }
}

extension Runtime.CollectorParts {
    /// Logs the banner's warnings for the dashboard and API served at `http` and for this collector's ingest listener.
    func warnAboutOpenListeners(http: Listener, logger: Logger) {
        let ingestListener = Listener(
            portVariable: "AGENTLEDGER_INGEST_PORT", hostVariable: "AGENTLEDGER_INGEST_HOST",
            host: ingest.configuration.host, port: ingest.port)
        let tokenSet = ingest.configuration.ingestToken != nil || ingest.configuration.tokens != nil
        for line in OpenListenerWarnings.lines(http: (http, keySet: apiKey != nil), ingest: (ingestListener, tokenSet)) {
            logger.warning("\(line)")
        }
    }
}
