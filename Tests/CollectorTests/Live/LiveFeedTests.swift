import LedgerTestSupport
import Testing

@testable import Collector

/// The live hub: every subscriber gets every call in order, a slow one loses its oldest calls and is told how many.
@Suite struct LiveFeedTests {
    static func calls(_ range: Range<Int>) -> [CallRecord] {
        range.map { CallRecord(actionID: "a\($0)", timestampMicros: Int64($0)) }
    }

    @Test func everySubscriberGetsEveryCallInOrder() async {
        let feed = LiveFeed()
        let first = feed.subscribe()
        let second = feed.subscribe()
        feed.publish(Self.calls(0..<3))
        feed.publish(Self.calls(3..<5))
        for subscription in [first, second] {
            var iterator = subscription.makeAsyncIterator()
            var seen: [LiveEvent] = []
            for _ in 0..<5 { seen.append(await iterator.next()!) }
            #expect(seen == Self.calls(0..<5).map(LiveEvent.call))
        }
    }

    @Test func aWaitingSubscriberWakesOnPublish() async throws {
        let feed = LiveFeed()
        let subscription = feed.subscribe()
        let reader = Task { () -> LiveEvent? in
            var iterator = subscription.makeAsyncIterator()
            return await iterator.next()
        }
        try await Task.sleep(for: .milliseconds(50))
        feed.publish(Self.calls(7..<8))
        let event = try await Integration.within(.seconds(2), "the woken reader") { await reader.value }
        #expect(event == .call(Self.calls(7..<8)[0]))
    }

    @Test func aSlowSubscriberLosesTheOldestCallsAndIsToldHowMany() async {
        let feed = LiveFeed(bufferSize: 3)
        let slow = feed.subscribe()
        feed.publish(Self.calls(0..<2))
        feed.publish(Self.calls(2..<5))
        feed.publish(Self.calls(5..<6))
        var iterator = slow.makeAsyncIterator()
        var seen: [LiveEvent] = []
        for _ in 0..<4 { seen.append(await iterator.next()!) }
        #expect(seen == [.missed(3)] + Self.calls(3..<6).map(LiveEvent.call))
        feed.publish(Self.calls(6..<7))
        #expect(await iterator.next() == .call(Self.calls(6..<7)[0]), "after catching up nothing more is missed")
    }

    @Test func publishNeverWaitsForAReader() {
        let feed = LiveFeed(bufferSize: 8)
        let subscriptions = (0..<50).map { _ in feed.subscribe() }
        for start in stride(from: 0, to: 10_000, by: 100) { feed.publish(Self.calls(start..<start + 100)) }
        #expect(feed.subscriberCount == subscriptions.count)
    }

    @Test func droppedMissedCountsAddUpAcrossPublishes() async {
        let feed = LiveFeed(bufferSize: 2)
        let subscription = feed.subscribe()
        for index in 0..<10 { feed.publish(Self.calls(index..<index + 1)) }
        var iterator = subscription.makeAsyncIterator()
        #expect(await iterator.next() == .missed(8))
        #expect(await iterator.next() == .call(Self.calls(8..<9)[0]))
        #expect(await iterator.next() == .call(Self.calls(9..<10)[0]))
    }

    @Test func cancellingAReaderUnsubscribesIt() async throws {
        let feed = LiveFeed()
        let reader = Task { () -> LiveEvent? in
            var iterator = feed.subscribe().makeAsyncIterator()
            return await iterator.next()
        }
        #expect(await Integration.eventually { feed.subscriberCount == 1 })
        reader.cancel()
        let event = try await Integration.within(.seconds(2), "the cancelled reader") { await reader.value }
        #expect(event == nil)
        #expect(feed.subscriberCount == 0)
    }

    @Test func releasingASubscriptionUnsubscribesIt() {
        let feed = LiveFeed()
        do {
            let subscription = feed.subscribe()
            #expect(feed.subscriberCount == 1)
            _ = subscription
        }
        #expect(feed.subscriberCount == 0)
    }

    @Test func finishingEndsSubscriptionsAfterTheirQueuedCalls() async {
        let feed = LiveFeed()
        let subscription = feed.subscribe()
        feed.publish(Self.calls(0..<1))
        feed.finish()
        var iterator = subscription.makeAsyncIterator()
        #expect(await iterator.next() == .call(Self.calls(0..<1)[0]))
        #expect(await iterator.next() == nil)
        var late = feed.subscribe().makeAsyncIterator()
        #expect(await late.next() == nil, "a feed that finished takes no new subscriber")
    }
}
