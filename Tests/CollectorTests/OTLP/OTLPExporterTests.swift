import Foundation
import LedgerTestSupport
import Testing

@testable import Collector

/// The exporter's bounded queue and its retries against a real HTTP receiver (docs/operations.md,
/// "OpenTelemetry export").
@Suite struct OTLPExporterTests {
    static func configuration(_ url: String) -> OTLPExportConfiguration {
        var configuration = OTLPExportConfiguration(tracesURL: url)
        configuration.encoding = .json
        configuration.gzip = false
        configuration.batchDelay = .milliseconds(20)
        configuration.retry.initialBackoff = .milliseconds(10)
        configuration.retry.maxBackoff = .milliseconds(40)
        configuration.drainTimeout = .milliseconds(500)
        return configuration
    }

    /// Units of spans: one that finds too little room is dropped whole, the rest kept in order; a take stops at the
    /// unit that would pass its limit.
    @Test func queueDropsWhatDoesNotFit() {
        func unit(_ prefix: String, _ count: Int) -> OTLPExporter.Queued {
            .records((0..<count).map { OTLPSpanMapperTests.record("\(prefix)\($0)") })
        }
        func ids(_ units: [OTLPExporter.Queued]) -> [String] {
            units.flatMap { unit -> [String] in
                if case .records(let records) = unit { records.map(\.actionID) } else { [] }
            }
        }
        var queue = OTLPExportQueue<OTLPExporter.Queued>(capacity: 5)
        #expect(queue.push([unit("a", 2), unit("b", 4), unit("c", 1)]) == 4)
        #expect(queue.count == 3)
        #expect(queue.push([unit("d", 2)]) == 0)
        #expect(queue.push([unit("e", 1)]) == 1, "full")
        #expect(ids(queue.take(2)) == ["a0", "a1"])
        #expect(ids(queue.take(2)) == ["c0"], "c and d together would pass the limit")
        #expect(ids(queue.take(1)) == ["d0", "d1"], "a unit larger than the limit goes alone")
        #expect(queue.count == 0)
        #expect(queue.take(5).isEmpty)
    }

    @Test func enqueueNeverWaitsAndCountsDrops() {
        var configuration = Self.configuration("http://127.0.0.1:9/v1/traces")
        configuration.queueSize = 10
        let counters = CollectorCounters()
        let exporter = OTLPExporter(configuration: configuration, version: "t", counters: counters, logger: Integration.logger)
        // Not running: nothing is sent, the queue fills and the rest is dropped at once.
        let clock = ContinuousClock()
        let elapsed = clock.measure {
            for batch in 0..<100 { exporter.enqueue((0..<10).map { OTLPSpanMapperTests.record("c\(batch)-\($0)") }) }
        }
        #expect(exporter.queued == 10)
        #expect(counters.value(.otelSpansDropped) == 990)
        #expect(elapsed < .seconds(2))
        // Calls that came in over OTLP are not sent back out.
        var ingested = OTLPSpanMapperTests.record("from-otlp")
        ingested.source = OTLPSpanReader.source
        exporter.enqueue([ingested])
        #expect(counters.value(.otelSpansDropped) == 990)
    }

    @Test func a503IsRetriedAndA400IsNot() async throws {
        let receiver = try await WebhookReceiver.started(script: [.status(503), .status(200), .status(400)])
        let counters = CollectorCounters()
        let exporter = OTLPExporter(
            configuration: Self.configuration(receiver.url), version: "t", counters: counters, logger: Integration.logger)
        let services = RunningServices([exporter])
        exporter.enqueue([OTLPSpanMapperTests.record("retried")])
        #expect(await Integration.eventually { counters.value(.otelSpansExported) == 1 })
        #expect(counters.value(.otelExportRetries) == 1)
        let bodies = receiver.recorder.bodies
        #expect(bodies.count == 2)
        let request = try OTLPWire.decodeRequest(Array(bodies[1].utf8), json: true)
        #expect(request.resourceSpans[0].scopeSpans[0].spans[0].spanID == OTLPIdentifiers.spanID(actionID: "retried"))

        exporter.enqueue([OTLPSpanMapperTests.record("refused")])
        #expect(await Integration.eventually { counters.value(.otelSpansFailed) == 1 })
        #expect(counters.value(.otelExportRequests) == 3)
        await services.stop()
        await receiver.stop()
    }

    @Test func aDownBackendIsRetriedThenGivenUp() async throws {
        var configuration = Self.configuration("http://127.0.0.1:1/v1/traces")
        configuration.retry.maxRetries = 2
        // AsyncHTTPClient keeps trying to connect until the request's deadline: the deadline bounds each attempt.
        configuration.timeout = .milliseconds(300)
        let counters = CollectorCounters()
        let exporter = OTLPExporter(configuration: configuration, version: "t", counters: counters, logger: Integration.logger)
        let services = RunningServices([exporter])
        exporter.enqueue([OTLPSpanMapperTests.record("lost")])
        #expect(await Integration.eventually { counters.value(.otelSpansFailed) == 1 })
        #expect(counters.value(.otelExportRequests) == 3)
        #expect(counters.value(.otelExportRetries) == 2)
        await services.stop()
    }
}
