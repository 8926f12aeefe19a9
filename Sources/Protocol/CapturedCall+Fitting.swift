/// Cutting a call's bodies so that its encoded record fits a byte budget: a record larger than a frame could never be
/// delivered and would block every record behind it (docs/operations.md, "Record size").
extension CapturedCall {
    /// Bytes a non-empty body field adds besides the body itself: its tag and its u32 length.
    static let bodyFieldOverheadBytes = 5

    /// The call with its bodies cut so that `encodedFields()` is at most `budget` bytes; the call itself when it fits
    /// already, nil when it cannot fit even with both bodies empty.
    ///
    /// Only the bodies are cut, from their ends; the headers, ids, metadata and times are kept. The bytes left for the
    /// bodies are shared fairly: a body smaller than half of them is kept whole and the other gets the rest, otherwise
    /// each gets half. A body that was cut has its `…BodyTruncated` flag set.
    package func fitted(toEncodedBytes budget: Int) -> CapturedCall? {
        var shell = self
        shell.requestBody = []
        shell.responseBody = []
        func cost(_ count: Int) -> Int { count == 0 ? 0 : count + Self.bodyFieldOverheadBytes }
        if shell.encodedFields().count + cost(requestBody.count) + cost(responseBody.count) <= budget { return self }
        shell.requestBodyTruncated = true
        shell.responseBodyTruncated = true
        // With both flags set, the shell is never smaller than the cut call's fields other than its bodies.
        let fixed = shell.encodedFields().count
        guard fixed <= budget else { return nil }
        let room = max(0, budget - fixed - 2 * Self.bodyFieldOverheadBytes)
        let (request, response) = Self.share(room, request: requestBody.count, response: responseBody.count)
        var cut = self
        if request < requestBody.count {
            cut.requestBody = Array(requestBody.prefix(request))
            cut.requestBodyTruncated = true
        }
        if response < responseBody.count {
            cut.responseBody = Array(responseBody.prefix(response))
            cut.responseBodyTruncated = true
        }
        return cut
    }

    /// Splits `room` bytes between two bodies: max-min fair, the response taking the odd byte.
    static func share(_ room: Int, request: Int, response: Int) -> (request: Int, response: Int) {
        let half = room / 2
        if response <= half { return (min(request, room - response), response) }
        if request <= half { return (request, min(response, room - request)) }
        return (half, room - half)
    }
}

extension Records {
    /// Bytes of a RECORDS frame's length field value besides its records: version, type, batch id and record count.
    package static let frameOverheadBytes = 1 + 1 + 8 + 4
    /// Bytes each record adds to a RECORDS frame besides its fields: its u32 length.
    package static let perRecordOverheadBytes = 4

    /// The largest encoded record that fits alone in a RECORDS frame no larger than `maxFrameBytes`.
    package static func maxRecordBytes(inFrameOf maxFrameBytes: Int) -> Int {
        max(0, maxFrameBytes - frameOverheadBytes - perRecordOverheadBytes)
    }
}
