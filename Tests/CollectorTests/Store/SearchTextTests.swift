import Testing

@testable import Collector

/// How search text is normalized before either store sees it, and the percentiles SQLite computes in Swift.
@Suite struct SearchTextTests {
    @Test func queryTermsKeepOnlyWordsAndSplitHanAndKana() {
        #expect(SearchText.terms(of: "  Zürich\t50% foo_bar \"x\" -y z* ") == ["zürich", "50", "foo bar", "x", "y", "z"])
        #expect(SearchText.terms(of: "東京の天気 Ünïcode") == ["東 京 の 天 気", "ünïcode"])
        #expect(SearchText.terms(of: "% _ * -- \"\"").isEmpty)
        #expect(SearchText.terms(of: "Zu\u{308}rich") == ["zürich"], "decomposed text is composed")
    }

    @Test func theDocumentPutsNewestTextFirstAndStaysUnderItsBudget() {
        var record = CallRecord(actionID: "a", timestampMicros: 1)
        record.agentName = "Writer"
        record.content = "Done."
        record.messages = [
            .object(["role": .string("user"), "content": .string("first")]),
            .object(["role": .string("assistant"), "content": .string("second")]),
        ]
        #expect(SearchText.document(for: record) == "writer done second first")
        record.messages = [.object(["content": .string(String(repeating: "word ", count: 200_000))])]
        let document = SearchText.document(for: record)
        #expect(document.utf8.count <= SearchText.maximumDocumentBytes)
        #expect(document.hasPrefix("writer done word"))
    }

    @Test func percentilesInterpolateLikePercentileCont() {
        #expect(StatsAccumulator.percentile(0.5, ofSorted: []) == nil)
        #expect(StatsAccumulator.percentile(0.99, ofSorted: [7]) == 7)
        #expect(StatsAccumulator.percentile(0.5, ofSorted: [10, 20, 30, 40]) == 25)
        #expect(StatsAccumulator.percentile(0.5, ofSorted: [1, 2, 100]) == 2)
        #expect(StatsAccumulator.percentile(1, ofSorted: [1, 2, 100]) == 100)
    }
}
