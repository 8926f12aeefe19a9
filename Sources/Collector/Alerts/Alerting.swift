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
        let adjective = crossing.period.adjective
        let (label, subject): (String, String) =
            switch crossing.scope {
            case .session: ("Session budget", " of session \(crossing.key)")
            case .agent: ("Agent \(adjective) budget", " of agent \(crossing.key)")
            case .user: ("User \(adjective) budget", " of user \(crossing.key)")
            case .app: ("App \(adjective) budget", " of app \(crossing.key)")
            case .environment: ("Environment \(adjective) budget", " of environment \(crossing.key)")
            case .model: ("Model \(adjective) budget", " of model \(crossing.key)")
            case .fleet: (adjective.prefix(1).uppercased() + adjective.dropFirst() + " budget", "")
            }
        // The period by its start: a UTC day by its date, any other by its start instant.
        let (period, when): (String, String) =
            switch crossing.period {
            case .lifetime: ("lifetime", "")
            case .day where crossing.periodStart % SpendLedger.microsPerDay == 0:
                (
                    String(ISOTimestamp.format(micros: crossing.periodStart).prefix(10)),
                    " on \(ISOTimestamp.format(micros: crossing.periodStart).prefix(10)) (UTC)"
                )
            default:
                (
                    ISOTimestamp.format(micros: crossing.periodStart),
                    " in the \(crossing.period.rawValue) from \(ISOTimestamp.format(micros: crossing.periodStart))"
                )
            }
        let spent = crossing.spent.usd
        let limit = crossing.limit.usd
        return Alert(
            kind: .budgetThreshold,
            message:
                "Spend\(subject) \(AlertFormat.dollars(spent)) reached \(AlertFormat.percent(crossing.fraction)) of its \(label) "
                + "of \(AlertFormat.dollars(limit))" + when,
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
