/// The ranges a captured call's times must fall in. A record outside them is refused where it is decoded, so no
/// later sum or format can overflow on it (docs/operations.md, "Limits and hardening").
extension CapturedCall {
    /// Arrival times accepted: from the Unix epoch up to, not including, 2200-01-01T00:00:00Z, in microseconds.
    package static let arrivalRange: Range<Int64> = 0..<7_258_118_400_000_000
    /// Durations accepted (first byte, completion): zero to seven days, in microseconds. No LLM call lasts longer;
    /// a larger value is a broken clock or a hostile peer.
    package static let durationRange: ClosedRange<Int64> = 0...604_800_000_000

    /// Throws when a time is outside its range.
    func checkTimes() throws(ProtocolError) {
        guard Self.arrivalRange.contains(arrivedAtMicros) else {
            throw .malformed(
                "arrival time \(arrivedAtMicros) µs is outside \(Self.arrivalRange.lowerBound)..<\(Self.arrivalRange.upperBound)")
        }
        let durations: [(String, Int64?)] = [("completion time", completedMicros), ("first byte time", firstByteMicros)]
        for (name, value) in durations {
            guard let value, !Self.durationRange.contains(value) else { continue }
            throw .malformed("\(name) \(value) µs is outside 0...\(Self.durationRange.upperBound) (seven days)")
        }
    }
}
