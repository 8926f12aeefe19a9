import Testing

@testable import Collector

/// Token counts are checked where they are read from a provider's JSON (issue 14 items 2 and 3): a count that is
/// negative, beyond a billion or not a whole number is not counted, the record says why, and nothing traps.
@Suite struct TokenUsageReadingTests {
    static func chat(usage: String, model: String = "gpt-4o-mini") -> CallRecord {
        CapturedCallFixture.record(
            CapturedCallFixture.call(
                request: #"{"model":"\#(model)","messages":[{"role":"user","content":"hi"}]}"#,
                response:
                    #"{"id":"c1","object":"chat.completion","model":"\#(model)","choices":[{"index":0,"message":{"role":"assistant","content":"hello"},"finish_reason":"stop"}],"usage":\#(usage)}"#
            ))
    }

    @Test(arguments: [
        "9223372036854775807", "9.3e18", "-1000000000000", "-1", "1.5", "1000000001", "1e300", #""12""#, "[1]",
    ])
    func anAbsurdInputCountIsNotCountedAndSaysWhy(value: String) {
        let record = Self.chat(usage: #"{"prompt_tokens":\#(value),"completion_tokens":7}"#)
        #expect(record.tokensIn == nil)
        #expect(record.tokensOut == 7)
        #expect(record.errorDetail?.contains("usage prompt_tokens") == true)
        #expect(record.errorDetail?.contains("not counted") == true)
        // Only the counted output tokens are priced: never a negative or astronomic cost.
        let cost = record.costUSD ?? 0
        #expect(cost >= 0 && cost < 1)
    }

    @Test func countsAtTheEdgesOfTheRangeAreKept() {
        let record = Self.chat(usage: #"{"prompt_tokens":0,"completion_tokens":1000000000}"#)
        #expect(record.tokensIn == 0)
        #expect(record.tokensOut == 1_000_000_000)
        #expect(record.errorDetail == nil)
    }

    @Test func anthropicPartsThatWouldAddPastSixtyFourBitsAreNotCounted() {
        let record = CapturedCallFixture.record(
            CapturedCallFixture.call(
                path: "/v1/messages",
                request: #"{"model":"claude-sonnet-4-5","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}"#,
                response:
                    #"{"id":"m1","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[{"type":"text","text":"hi"}],"stop_reason":"end_turn","usage":{"input_tokens":5000000000000000000,"cache_read_input_tokens":5000000000000000000,"cache_creation_input_tokens":20,"output_tokens":3}}"#
            ))
        #expect(record.tokensIn == 20)
        #expect(record.tokensOut == 3)
        #expect(record.errorDetail?.contains("input_tokens") == true)
        #expect(record.errorDetail?.contains("cache_read_input_tokens") == true)
    }

    @Test func batchesTallyTheRejectedCounts() {
        let call = CapturedCallFixture.call(
            request: #"{"model":"gpt-4o-mini","messages":[]}"#,
            response: #"{"model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":-5,"completion_tokens":-6}}"#)
        var tally = Normalizer.Tally()
        _ = Normalizer().records(from: [call, call], tally: &tally)
        #expect(tally.rejectedUsageCounts == 4)
    }

    @Test func saturatingSumNeverTraps() {
        #expect(TokenUsage.sum(.max, 1) == .max)
        #expect(TokenUsage.sum(.min, -1) == .min)
        #expect(TokenUsage.sum(1, nil, 2) == 3)
    }
}
