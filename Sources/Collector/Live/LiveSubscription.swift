/// One subscriber's events from a `LiveFeed`, as an async sequence; it unsubscribes when released.
///
/// Iterate it from one task only: a subscription has one reader.
package final class LiveSubscription: AsyncSequence, Sendable {
    package typealias Element = LiveEvent

    private let feed: LiveFeed
    /// Nil when the feed had already finished: the sequence is empty.
    private let id: Int?

    init(feed: LiveFeed, id: Int?) {
        self.feed = feed
        self.id = id
    }

    deinit {
        if let id { feed.cancel(id) }
    }

    /// Reads the subscription's events; holds the subscription so it stays open while read.
    package struct AsyncIterator: AsyncIteratorProtocol {
        let subscription: LiveSubscription

        package mutating func next() async -> LiveEvent? {
            guard let id = subscription.id else { return nil }
            return await subscription.feed.next(id)
        }
    }

    package func makeAsyncIterator() -> AsyncIterator { AsyncIterator(subscription: self) }
}
