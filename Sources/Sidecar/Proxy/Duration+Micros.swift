import NIOCore

extension Duration {
    /// Whole microseconds, the unit of the captured call's durations.
    var micros: Int64 { components.seconds * 1_000_000 + components.attoseconds / 1_000_000_000_000 }

    /// The same span as NIO's `TimeAmount` (to the microsecond), for deadlines on an event loop.
    var timeAmount: TimeAmount { .nanoseconds(micros * 1000) }
}
