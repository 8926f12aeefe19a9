/// The range and bucket width of `/api/stats`. Calls count when `sinceMicros <= timestamp <= untilMicros`.
package struct StatsQuery: Sendable, Equatable {
    /// How wide a bucket is; buckets start at whole UTC minutes, hours or days.
    package enum Bucket: String, Sendable, CaseIterable {
        case minute, hour, day

        package var micros: Int64 {
            switch self {
            case .minute: 60_000_000
            case .hour: 3_600_000_000
            case .day: 86_400_000_000
            }
        }

        /// The start of the bucket holding `micros`.
        package func start(of micros: Int64) -> Int64 {
            micros - ((micros % self.micros) + self.micros) % self.micros
        }
    }

    package var sinceMicros: Int64
    package var untilMicros: Int64
    package var bucket: Bucket

    package init(sinceMicros: Int64, untilMicros: Int64, bucket: Bucket = .hour) {
        self.sinceMicros = sinceMicros
        self.untilMicros = untilMicros
        self.bucket = bucket
    }

    /// How many buckets the range spans, the most a response can hold.
    package var bucketCount: Int64 {
        guard untilMicros >= sinceMicros else { return 0 }
        return (bucket.start(of: untilMicros) - bucket.start(of: sinceMicros)) / bucket.micros + 1
    }
}
