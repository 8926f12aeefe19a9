import Testing

@testable import Collector

/// Which export failures are retried, and after how long (docs/operations.md, "OpenTelemetry export").
@Suite struct OTLPRetryPolicyTests {
    let policy = OTLPRetryPolicy()

    @Test func onlyThrottlingAndGatewayStatusesAreRetried() {
        for status in [429, 502, 503, 504] {
            #expect(policy.verdict(status: status, retryAfter: nil, attempt: 1, jitter: 1, now: 0) != .failed)
        }
        for status in [400, 401, 403, 404, 413, 500, 501, 301] {
            #expect(policy.verdict(status: status, retryAfter: nil, attempt: 1, jitter: 1, now: 0) == .failed)
        }
        #expect(policy.verdict(status: 200, retryAfter: "9", attempt: 1, jitter: 1, now: 0) == .exported)
        #expect(policy.verdict(status: 204, retryAfter: nil, attempt: 1, jitter: 1, now: 0) == .exported)
        #expect(policy.verdictOnConnectionError(attempt: 1, jitter: 1) == .retry(after: .milliseconds(500)))
    }

    @Test func retryAfterIsHonouredUpToItsCap() {
        #expect(policy.verdict(status: 503, retryAfter: "2", attempt: 1, jitter: 0, now: 0) == .retry(after: .seconds(2)))
        #expect(policy.verdict(status: 429, retryAfter: "3600", attempt: 1, jitter: 0, now: 0) == .retry(after: .seconds(30)))
        // An HTTP date 4 s from now.
        let now = 1_445_412_476.0
        #expect(
            policy.verdict(status: 503, retryAfter: "Wed, 21 Oct 2015 07:28:00 GMT", attempt: 1, jitter: 0, now: now)
                == .retry(after: .seconds(4)))
        // Unreadable: backoff instead.
        #expect(
            policy.verdict(status: 503, retryAfter: "soon", attempt: 1, jitter: 1, now: 0) == .retry(after: .milliseconds(500)))
        #expect(OTLPRetryPolicy.retryAfter("-1", now: 0) == nil)
    }

    @Test func backoffDoublesUpToItsCapWithJitter() {
        #expect(policy.backoff(afterAttempt: 1, jitter: 1) == .milliseconds(500))
        #expect(policy.backoff(afterAttempt: 2, jitter: 1) == .seconds(1))
        #expect(policy.backoff(afterAttempt: 3, jitter: 1) == .seconds(2))
        #expect(policy.backoff(afterAttempt: 5, jitter: 1) == .seconds(5))
        #expect(policy.backoff(afterAttempt: 1_000, jitter: 1) == .seconds(5))
        #expect(policy.backoff(afterAttempt: 2, jitter: 0) == .milliseconds(500))
    }
}
