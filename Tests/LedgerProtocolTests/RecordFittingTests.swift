import Testing

@testable import LedgerProtocol

/// Cutting a call's bodies so its record fits a frame (issue 14 item 6: one 82 MiB request blocked a link for good).
@Suite struct RecordFittingTests {
    static func call(request: Int, response: Int, headers: Int = 2) -> CapturedCall {
        CapturedCall(
            actionID: "act-1", arrivedAtMicros: 1_790_000_000_000_000, method: "POST", path: "/v1/chat/completions",
            source: "pod", metadata: CallMetadata(sessionID: "s-1", userID: "u-1"),
            requestHeaders: (0..<headers).map { HeaderField("x-h\($0)", "v\($0)") },
            requestBody: [UInt8](repeating: UInt8(ascii: "q"), count: request), statusCode: 200,
            responseHeaders: [HeaderField("content-type", "application/json")],
            responseBody: [UInt8](repeating: UInt8(ascii: "a"), count: response), firstByteMicros: 10,
            completedMicros: 20)
    }

    @Test func aCallThatFitsIsReturnedUnchanged() throws {
        let call = Self.call(request: 1_000, response: 1_000)
        let size = call.encodedFields().count
        #expect(call.fitted(toEncodedBytes: size) == call)
        #expect(call.fitted(toEncodedBytes: .max) == call)
    }

    @Test(arguments: [(50_000, 2_000), (2_000, 50_000), (40_000, 40_000), (100_000, 0), (0, 100_000)])
    func aCutCallFitsItsBudgetAndKeepsEverythingButBodyBytes(request: Int, response: Int) throws {
        let call = Self.call(request: request, response: response)
        let budget = 20_000
        let cut = try #require(call.fitted(toEncodedBytes: budget))
        let encoded = cut.encodedFields()
        #expect(encoded.count <= budget)
        #expect(encoded.count > budget - 64, "the budget is used, not wasted")
        let decoded = try CapturedCall.decodeFields(encoded[...])
        #expect(decoded == cut)
        #expect(decoded.requestBodyTruncated == (request > cut.requestBody.count))
        #expect(decoded.responseBodyTruncated == (response > cut.responseBody.count))
        #expect(call.requestBody.starts(with: decoded.requestBody) && call.responseBody.starts(with: decoded.responseBody))
        var rest = decoded
        rest.requestBody = call.requestBody
        rest.responseBody = call.responseBody
        rest.requestBodyTruncated = false
        rest.responseBodyTruncated = false
        #expect(rest == call, "ids, metadata, headers and times are kept")
    }

    @Test func aSmallBodyIsKeptWholeAndTheLargeOneIsCut() throws {
        let cut = try #require(Self.call(request: 90_000, response: 3_000).fitted(toEncodedBytes: 20_000))
        #expect(cut.responseBody.count == 3_000 && !cut.responseBodyTruncated)
        #expect(cut.requestBodyTruncated && cut.requestBody.count > 16_000)
        let both = try #require(Self.call(request: 90_000, response: 90_000).fitted(toEncodedBytes: 20_000))
        #expect(abs(both.requestBody.count - both.responseBody.count) <= 1, "two large bodies share the room evenly")
    }

    @Test func aCallTooLargeWithoutBodiesCannotFit() {
        let call = Self.call(request: 10, response: 10, headers: 1_000)
        #expect(call.fitted(toEncodedBytes: 1_000) == nil)
    }

    @Test func theRecordBudgetOfAFrameIsExact() throws {
        let maxFrame = 30_000
        let cut = try #require(
            Self.call(request: 100_000, response: 0).fitted(toEncodedBytes: Records.maxRecordBytes(inFrameOf: maxFrame)))
        let frame = Records.encodedFrame(batchID: 1, encodedCalls: [cut.encodedFields()])
        #expect(frame.count - 4 <= maxFrame)
        let decoded = try FrameDecoder.decodeSingle(frame, maxFrameBytes: maxFrame)
        guard case .records(let records) = decoded else {
            Issue.record("not RECORDS")
            return
        }
        #expect(records.calls == [cut])
    }
}
