import Foundation

/// When a failed export is tried again, and after how long (docs/operations.md, "OpenTelemetry export"): only on
/// 429, 502, 503, 504 and connection errors, as the OTLP specification lists them; after `Retry-After` when the
/// backend sent one (capped), else after capped exponential backoff with jitter. Pure: the caller sleeps.
package struct OTLPRetryPolicy: Sendable, Equatable {
    /// Tries after the first; 0 never retries.
    package var maxRetries = 5
    package var initialBackoff: Duration = .milliseconds(500)
    package var maxBackoff: Duration = .seconds(5)
    /// The longest `Retry-After` honoured; a longer one waits this long.
    package var maxRetryAfter: Duration = .seconds(30)

    package init() {}

    /// What one attempt's answer means for the batch.
    package enum Verdict: Sendable, Equatable {
        case exported
        /// Try again after this long, when tries are left.
        case retry(after: Duration)
        /// Not worth trying again (4xx but 429, 500, 501, a redirect...).
        case failed
    }

    /// The status codes worth another try.
    package static func isRetryable(status: Int) -> Bool {
        [429, 502, 503, 504].contains(status)
    }

    /// The verdict on an HTTP answer after attempt `attempt` (1 for the first); `jitter` in 0...1.
    package func verdict(status: Int, retryAfter: String?, attempt: Int, jitter: Double, now: Double) -> Verdict {
        if (200..<300).contains(status) { return .exported }
        guard Self.isRetryable(status: status) else { return .failed }
        if let retryAfter, let wait = Self.retryAfter(retryAfter, now: now) { return .retry(after: min(wait, maxRetryAfter)) }
        return .retry(after: backoff(afterAttempt: attempt, jitter: jitter))
    }

    /// A connection error, reset or timeout: always worth another try.
    package func verdictOnConnectionError(attempt: Int, jitter: Double) -> Verdict {
        .retry(after: backoff(afterAttempt: attempt, jitter: jitter))
    }

    /// `initialBackoff` doubled per attempt, capped at `maxBackoff`, scaled by 0.5...1 with the jitter.
    package func backoff(afterAttempt attempt: Int, jitter: Double) -> Duration {
        let doublings = min(max(attempt - 1, 0), 30)
        let raw = initialBackoff * (1 << doublings)
        let capped = min(raw, maxBackoff)
        return capped * (0.5 + 0.5 * min(max(jitter, 0), 1))
    }

    /// `Retry-After` as seconds or an HTTP date (RFC 9110); nil when it is neither. `now`: seconds since the epoch.
    package static func retryAfter(_ value: String, now: Double) -> Duration? {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        if let seconds = Int(trimmed), seconds >= 0 { return .seconds(min(seconds, 86_400)) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: trimmed) else { return nil }
        let seconds = max(0, date.timeIntervalSince1970 - now)
        return .milliseconds(Int64(min(seconds, 86_400) * 1000))
    }
}
