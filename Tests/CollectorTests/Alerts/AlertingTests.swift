import Foundation
import LedgerMetrics
import LedgerTestSupport
import Testing

@testable import Collector

/// The facade the ingest pipeline calls: new records in, webhook POSTs out.
@Suite struct AlertingTests {
    @Test func isOffWithoutAWebhook() {
        #expect(Alerting(config: AlertConfig(costPerCall: 0), logger: Integration.logger) == nil)
    }

    @Test func observedRecordsReachTheWebhook() async throws {
        let receiver = try await WebhookReceiver.started()
        let config = AlertConfig(webhookURL: receiver.url, costPerCall: 0.1, dailySpend: 1)
        let dispatcher = AlertDispatcher(
            configuration: AlertDispatcherTests.configuration(receiver.url), logger: Integration.logger)
        let alerting = Alerting(config: config, dispatcher: dispatcher, nowMicros: { AlertDispatcherTests.noon })
        let services = RunningServices([dispatcher])
        alerting.seedDailySpend(dayStartMicros: AlertRulesTests.dayStart, amount: 0.9)
        var cheap = CallRecord(actionID: "cheap", timestampMicros: AlertRulesTests.dayStart + AlertRulesTests.hour)
        cheap.costUSD = 0.05
        var costly = cheap
        costly.actionID = "costly"
        costly.costUSD = 0.5
        alerting.observe([cheap])
        alerting.observe([costly])
        #expect(await Integration.eventually { dispatcher.counts.sent == 2 })
        await services.stop()
        await receiver.stop()
        let types = try receiver.recorder.bodies.map { body in
            try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])["type"] as? String
        }
        #expect(types.compactMap { $0 }.sorted() == ["daily_spend", "high_cost"])
        #expect(alerting.dispatcher.counters.registry.prometheusText().contains("agentledger_alerts_sent_total 2\n"))
    }
}
