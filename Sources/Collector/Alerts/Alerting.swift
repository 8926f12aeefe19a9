import AsyncHTTPClient
import LedgerProtocol
import Logging
import Prometheus
import Synchronization

/// The collector's alerting as one object: the rules behind a lock, fed with newly stored records, and the
/// dispatcher (a `Service` to run) that delivers what they raise.
package final class Alerting: Sendable {
    package let dispatcher: AlertDispatcher
    private let rules: Mutex<AlertRules>
    private let nowMicros: @Sendable () -> Int64

    /// Nil when alerts are off (no webhook URL). `httpClient` and `registry`: see `AlertDispatcher.init`.
    package convenience init?(
        config: AlertConfig, httpClient: HTTPClient? = nil, registry: PrometheusCollectorRegistry = .init(), logger: Logger
    ) {
        guard config.isEnabled, let url = config.webhookURL else { return nil }
        self.init(
            config: config,
            dispatcher: AlertDispatcher(
                configuration: .init(webhookURL: url), httpClient: httpClient, registry: registry, logger: logger))
    }

    package init(
        config: AlertConfig, dispatcher: AlertDispatcher,
        nowMicros: @escaping @Sendable () -> Int64 = WallClock.nowMicros
    ) {
        self.dispatcher = dispatcher
        rules = Mutex(AlertRules(config: config))
        self.nowMicros = nowMicros
    }

    /// Evaluates records just committed for the first time (not replays) and files their alerts; never awaits.
    package func observe(_ newRecords: [CallRecord]) {
        guard !newRecords.isEmpty else { return }
        let now = nowMicros()
        let alerts = rules.withLock { $0.evaluate(newRecords, now: now) }
        dispatcher.enqueue(alerts)
    }

    /// Files a `budget_threshold` alert per soft threshold a key's spend crossed (`EnforcementPolicy.alertFractions`),
    /// once per key, threshold and period: its dedup key names them all.
    package func observe(_ crossings: [ThresholdCrossing]) {
        let now = nowMicros()
        dispatcher.enqueue(crossings.map { Self.alert(for: $0, now: now) })
    }

    static func alert(for crossing: ThresholdCrossing, now: Int64) -> Alert {
        let (label, subject): (String, String) =
            switch crossing.scope {
            case .session: ("Session budget", " of session \(crossing.key)")
            case .agent: ("Agent daily budget", " of agent \(crossing.key)")
            case .user: ("User daily budget", " of user \(crossing.key)")
            case .app: ("App daily budget", " of app \(crossing.key)")
            case .fleet: ("Daily budget", "")
            }
        let period = crossing.scope == .session ? "lifetime" : String(ISOTimestamp.format(micros: crossing.day).prefix(10))
        let spent = crossing.spent.usd
        let limit = crossing.limit.usd
        return Alert(
            kind: .budgetThreshold,
            message:
                "Spend\(subject) \(AlertFormat.dollars(spent)) reached \(AlertFormat.percent(crossing.fraction)) of its \(label) "
                + "of \(AlertFormat.dollars(limit))" + (crossing.scope == .session ? "" : " on \(period) (UTC)"),
            value: spent, threshold: limit * crossing.fraction, actionID: nil,
            sessionID: crossing.scope == .session ? crossing.key : nil,
            agentName: crossing.scope == .agent ? crossing.key : nil, timestampMicros: now,
            dedupKey: "\(Alert.Kind.budgetThreshold.rawValue):\(crossing.scope):\(crossing.key):\(period):\(crossing.fraction)")
    }

    /// What the day (UTC, containing `dayStartMicros`) had spent before this process started; see `AlertRules`.
    package func seedDailySpend(dayStartMicros: Int64, amount: Double) {
        rules.withLock { $0.seedDailySpend(dayStartMicros: dayStartMicros, amount: amount) }
    }
}
