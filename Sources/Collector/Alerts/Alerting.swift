import AsyncHTTPClient
import LedgerProtocol
import Logging
import Synchronization

/// The collector's alerting as one object: the rules behind a lock, fed with newly stored records, and the
/// dispatcher (a `Service` to run) that delivers what they raise.
package final class Alerting: Sendable {
    package let dispatcher: AlertDispatcher
    private let rules: Mutex<AlertRules>
    private let nowMicros: @Sendable () -> Int64

    /// Nil when alerts are off (no webhook URL). `httpClient`: see `AlertDispatcher.init`.
    package convenience init?(config: AlertConfig, httpClient: HTTPClient? = nil, logger: Logger) {
        guard config.isEnabled, let url = config.webhookURL else { return nil }
        self.init(
            config: config,
            dispatcher: AlertDispatcher(configuration: .init(webhookURL: url), httpClient: httpClient, logger: logger))
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

    /// What the day (UTC, containing `dayStartMicros`) had spent before this process started; see `AlertRules`.
    package func seedDailySpend(dayStartMicros: Int64, amount: Double) {
        rules.withLock { $0.seedDailySpend(dayStartMicros: dayStartMicros, amount: amount) }
    }

    package func prometheusText() -> String { dispatcher.prometheusText() }
}
