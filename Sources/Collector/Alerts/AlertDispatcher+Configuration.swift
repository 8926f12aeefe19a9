extension AlertDispatcher {
    /// How alerts are delivered; every default is written at its field.
    package struct Configuration: Sendable {
        /// `AGENTLEDGER_ALERT_WEBHOOK_URL`.
        package var webhookURL: String
        /// Alerts waiting for delivery; when full the oldest is dropped and counted. Default 1,000.
        package var queueCapacity = 1_000
        /// Deliveries in flight at once, so one hanging webhook call does not hold the queue. Default 4.
        package var concurrency = 4
        /// Attempts per alert, the first included. Default 5.
        package var maxAttempts = 5
        /// Deadline of one attempt, connecting included. Default 5 s.
        package var attemptTimeout: Duration = .seconds(5)
        /// Wait before the second attempt, doubled for each next one up to `maxBackoff`, with jitter. Default 500 ms.
        package var initialBackoff: Duration = .milliseconds(500)
        /// Longest wait between attempts. Default 8 s.
        package var maxBackoff: Duration = .seconds(8)
        /// After graceful shutdown starts, how long queued and in-flight alerts may still be delivered. Default 2 s.
        package var drainTimeout: Duration = .seconds(2)
        /// Alert keys remembered to deliver each alert once. Default 10,000.
        package var dedupCapacity = 10_000

        package init(webhookURL: String) {
            self.webhookURL = webhookURL
        }

        /// The wait before attempt `attempt + 1` (`attempt` from 1): capped exponential, scaled by `jitter`
        /// (0...1) into its upper half so retries of many alerts spread out.
        package func backoff(afterAttempt attempt: Int, jitter: Double) -> Duration {
            let exponent = min(max(attempt - 1, 0), 30)
            let uncapped = initialBackoff * (1 << exponent)
            let capped = min(uncapped, maxBackoff)
            return capped * (0.5 + 0.5 * min(max(jitter, 0), 1))
        }
    }
}
