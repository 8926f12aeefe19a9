import Synchronization

/// Fans newly stored calls out to live subscribers (the dashboard's `/ws`).
///
/// `publish` never blocks and never waits for a subscriber: each one has a bounded queue, and a subscriber that
/// falls behind loses its oldest calls and is told how many with a `LiveEvent.missed` before its next call.
package final class LiveFeed: Sendable {
    /// Calls queued for one subscriber at most before the oldest are dropped.
    package static let defaultBufferSize = 256

    private struct Subscriber {
        var queue: [CallRecord] = []
        var missed = 0
        var waiter: CheckedContinuation<LiveEvent?, Never>?

        mutating func take() -> LiveEvent? {
            if missed > 0 {
                defer { missed = 0 }
                return .missed(missed)
            }
            return queue.isEmpty ? nil : .call(queue.removeFirst())
        }
    }

    private struct State {
        var nextID = 0
        var subscribers: [Int: Subscriber] = [:]
        var finished = false
    }

    package let bufferSize: Int
    private let state = Mutex(State())

    package init(bufferSize: Int = LiveFeed.defaultBufferSize) {
        precondition(bufferSize > 0, "a live subscriber needs room for at least one call")
        self.bufferSize = bufferSize
    }

    /// Hands `records` to every subscriber; call it after the records are committed, with the new ones only.
    package func publish(_ records: [CallRecord]) {
        guard !records.isEmpty else { return }
        let wakeups = state.withLock { state -> [(CheckedContinuation<LiveEvent?, Never>, LiveEvent)] in
            var wakeups: [(CheckedContinuation<LiveEvent?, Never>, LiveEvent)] = []
            for id in state.subscribers.keys {
                var subscriber = state.subscribers[id]!
                subscriber.queue.append(contentsOf: records)
                let overflow = subscriber.queue.count - bufferSize
                if overflow > 0 {
                    subscriber.queue.removeFirst(overflow)
                    subscriber.missed += overflow
                }
                if let waiter = subscriber.waiter, let event = subscriber.take() {
                    subscriber.waiter = nil
                    wakeups.append((waiter, event))
                }
                state.subscribers[id] = subscriber
            }
            return wakeups
        }
        for (waiter, event) in wakeups { waiter.resume(returning: event) }
    }

    /// A new subscription; it receives the calls published from now on until it is dropped or the feed finishes.
    package func subscribe() -> LiveSubscription {
        let id = state.withLock { state -> Int? in
            guard !state.finished else { return nil }
            defer { state.nextID += 1 }
            state.subscribers[state.nextID] = Subscriber()
            return state.nextID
        }
        return LiveSubscription(feed: self, id: id)
    }

    /// How many subscriptions are open.
    package var subscriberCount: Int { state.withLock { $0.subscribers.count } }

    /// Ends every subscription (once their queued calls are read) and refuses new ones.
    package func finish() {
        let waiters = state.withLock { state in
            state.finished = true
            var waiters: [CheckedContinuation<LiveEvent?, Never>] = []
            for (id, subscriber) in state.subscribers where subscriber.queue.isEmpty && subscriber.missed == 0 {
                if let waiter = subscriber.waiter { waiters.append(waiter) }
                state.subscribers[id] = nil
            }
            return waiters
        }
        for waiter in waiters { waiter.resume(returning: nil) }
    }

    /// The subscriber's next event, waiting for one; nil once it is cancelled or the feed finished.
    func next(_ id: Int) async -> LiveEvent? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<LiveEvent?, Never>) in
                let ready = state.withLock { state -> LiveEvent?? in
                    guard var subscriber = state.subscribers[id] else { return .some(nil) }
                    if let event = subscriber.take() {
                        state.subscribers[id] = subscriber
                        if state.finished, subscriber.queue.isEmpty, subscriber.missed == 0 { state.subscribers[id] = nil }
                        return event
                    }
                    subscriber.waiter = continuation
                    state.subscribers[id] = subscriber
                    return .none
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            cancel(id)
        }
    }

    /// Drops the subscriber and wakes its waiting reader with nil.
    func cancel(_ id: Int) {
        let waiter = state.withLock { $0.subscribers.removeValue(forKey: id)?.waiter }
        waiter?.resume(returning: nil)
    }
}
