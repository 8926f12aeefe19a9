/// A captured call is a list of tagged fields (tag u8, length u32, value), so that later versions
/// can add fields that older collectors skip. Absent optional fields are simply not written.
extension CapturedCall {
    package enum Tag: UInt8, CaseIterable {
        case actionID = 1
        case arrivedAtMicros = 2
        case method = 3
        case path = 4
        case source = 5
        case sessionID = 6
        case userID = 7
        case agentName = 8
        case appID = 9
        case parentActionID = 10
        case environment = 11
        case handoffFrom = 12
        case handoffTo = 13
        case requestHeaders = 14
        case requestBody = 15
        case requestBodyTruncated = 16
        case statusCode = 17
        case responseHeaders = 18
        case responseBody = 19
        case responseBodyTruncated = 20
        case firstByteMicros = 21
        case completedMicros = 22
        case outcome = 23
        case outcomeDetail = 24
        case usageInjected = 25
    }

    package func encodeFields(into w: inout ByteWriter) {
        func field(_ tag: Tag, _ body: (inout ByteWriter) -> Void) {
            w.write(tag.rawValue)
            let lengthAt = w.bytes.count
            w.write(UInt32(0))
            body(&w)
            w.patch(UInt32(w.bytes.count - lengthAt - 4), at: lengthAt)
        }
        func text(_ tag: Tag, _ value: String?) {
            guard let value else { return }
            w.write(tag.rawValue)
            w.write(value)
        }
        func headers(_ tag: Tag, _ value: [HeaderField]) {
            guard !value.isEmpty else { return }
            field(tag) { w in
                w.write(UInt32(value.count))
                for header in value {
                    w.write(header.name)
                    w.write(header.value)
                }
            }
        }
        func flag(_ tag: Tag, _ value: Bool) {
            if value { field(tag) { $0.write(true) } }
        }

        text(.actionID, actionID)
        field(.arrivedAtMicros) { $0.write(arrivedAtMicros) }
        text(.method, method)
        text(.path, path)
        text(.source, source)
        text(.sessionID, metadata.sessionID)
        text(.userID, metadata.userID)
        text(.agentName, metadata.agentName)
        text(.appID, metadata.appID)
        text(.parentActionID, metadata.parentActionID)
        text(.environment, metadata.environment)
        text(.handoffFrom, metadata.handoffFrom)
        text(.handoffTo, metadata.handoffTo)
        headers(.requestHeaders, requestHeaders)
        if !requestBody.isEmpty {
            w.write(Tag.requestBody.rawValue)
            w.write(bytes: requestBody)
        }
        flag(.requestBodyTruncated, requestBodyTruncated)
        if let statusCode { field(.statusCode) { $0.write(statusCode) } }
        headers(.responseHeaders, responseHeaders)
        if !responseBody.isEmpty {
            w.write(Tag.responseBody.rawValue)
            w.write(bytes: responseBody)
        }
        flag(.responseBodyTruncated, responseBodyTruncated)
        if let firstByteMicros { field(.firstByteMicros) { $0.write(firstByteMicros) } }
        field(.completedMicros) { $0.write(completedMicros) }
        if outcome != .completed { field(.outcome) { $0.write(outcome.rawValue) } }
        text(.outcomeDetail, outcomeDetail)
        flag(.usageInjected, usageInjected)
    }

    package static func decodeFields(_ bytes: ArraySlice<UInt8>) throws(ProtocolError) -> CapturedCall {
        var r = ByteReader(bytes)
        var call = CapturedCall(actionID: "", arrivedAtMicros: 0, method: "", path: "", source: "")
        var seen: UInt64 = 0  // a bit per known tag (all below 64)
        while !r.isAtEnd {
            let rawTag = try r.readUInt8("field tag")
            let value = try r.readBytes("field \(rawTag)")
            guard let tag = Tag(rawValue: rawTag) else { continue }  // a newer sender's field: skip it
            guard seen & (1 << rawTag) == 0 else { throw .malformed("field \(tag) appears twice") }
            seen |= 1 << rawTag
            var v = ByteReader(value)
            func text() throws(ProtocolError) -> String {
                guard let string = String(utf8: value) else {
                    throw .malformed("field \(tag) is not valid UTF-8")
                }
                return string
            }
            func headers() throws(ProtocolError) -> [HeaderField] {
                let count = try v.readUInt32("header count")
                guard Int(count) <= v.remaining / 8 else { throw .malformed("header count \(count) too large") }
                var result: [HeaderField] = []
                result.reserveCapacity(min(Int(count), 256))
                for _ in 0..<count {
                    result.append(HeaderField(try v.readString("header name"), try v.readString("header value")))
                }
                return result
            }
            switch tag {
            case .actionID: call.actionID = try text()
            case .arrivedAtMicros: call.arrivedAtMicros = try v.readInt64("arrival time")
            case .method: call.method = try text()
            case .path: call.path = try text()
            case .source: call.source = try text()
            case .sessionID: call.metadata.sessionID = try text()
            case .userID: call.metadata.userID = try text()
            case .agentName: call.metadata.agentName = try text()
            case .appID: call.metadata.appID = try text()
            case .parentActionID: call.metadata.parentActionID = try text()
            case .environment: call.metadata.environment = try text()
            case .handoffFrom: call.metadata.handoffFrom = try text()
            case .handoffTo: call.metadata.handoffTo = try text()
            case .requestHeaders: call.requestHeaders = try headers()
            case .requestBody: call.requestBody = Array(value)
            case .requestBodyTruncated: call.requestBodyTruncated = try v.readBool("request body truncated")
            case .statusCode: call.statusCode = try v.readUInt16("status code")
            case .responseHeaders: call.responseHeaders = try headers()
            case .responseBody: call.responseBody = Array(value)
            case .responseBodyTruncated: call.responseBodyTruncated = try v.readBool("response body truncated")
            case .firstByteMicros: call.firstByteMicros = try v.readInt64("first byte time")
            case .completedMicros: call.completedMicros = try v.readInt64("completion time")
            case .outcome:
                let raw = try v.readUInt8("outcome")
                guard let outcome = CallOutcome(rawValue: raw) else { throw .malformed("unknown outcome \(raw)") }
                call.outcome = outcome
            case .outcomeDetail: call.outcomeDetail = try text()
            case .usageInjected: call.usageInjected = try v.readBool("usage injected")
            }
            switch tag {
            case .requestBody, .responseBody, .actionID, .method, .path, .source, .sessionID, .userID, .agentName,
                .appID, .parentActionID, .environment, .handoffFrom, .handoffTo, .outcomeDetail:
                break
            default:
                try v.expectEnd("field \(tag)")
            }
        }
        for required in [Tag.actionID, .arrivedAtMicros, .method, .path] where seen & (1 << required.rawValue) == 0 {
            throw .malformed("record lacks required field \(required)")
        }
        try call.checkTimes()
        return call
    }
}
