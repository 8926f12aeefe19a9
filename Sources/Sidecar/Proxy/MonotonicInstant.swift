import NIOCore

/// A point on the monotonic clock, from which a call's durations are measured (its first byte, its completion).
///
/// Not `ContinuousClock.Instant`: that type is resilient (the standard library keeps its layout to itself), so every
/// struct and enum that holds one, up to `ProxyExchange` and its states, is copied and destroyed through runtime value
/// witnesses with a metadata lookup each time. This one is a plain integer, copied inline (docs/benchmarks.md,
/// "The sidecar's per-call CPU after the design pass").
struct MonotonicInstant: Sendable, Hashable {
    /// Nanoseconds of the monotonic clock, as `NIODeadline` reads it.
    let nanoseconds: UInt64

    static var now: MonotonicInstant { MonotonicInstant(nanoseconds: NIODeadline.now().uptimeNanoseconds) }

    /// Whole microseconds from this instant until now (never negative).
    var microsElapsed: Int64 { Self.now.micros(since: self) }

    /// Whole microseconds from `start` to this instant, or 0 when `start` is later.
    func micros(since start: MonotonicInstant) -> Int64 {
        nanoseconds > start.nanoseconds ? Int64(clamping: (nanoseconds - start.nanoseconds) / 1000) : 0
    }
}
