import LedgerProtocol

/// Turns a captured call into its stored record: picks the provider's adapter by path, reads the request and the
/// response (whole or streamed), and prices the tokens.
///
/// Never throws and never traps: whatever cannot be read stays nil and is explained in `error_detail`.
package struct Normalizer: Sendable {
    package let prices: PriceTable

    package init(prices: PriceTable = .builtIn) {
        self.prices = prices
    }

    /// What a batch's calls share, looked up once per batch: routes by path, prices by model name.
    private struct Lookups {
        var routes: [String: ProviderRoute] = [:]
        var prices: [String: ModelPrice?] = [:]
        var rejectedUsageCounts = 0

        mutating func route(for path: String) -> ProviderRoute {
            if let route = routes[path] { return route }
            let route = ProviderRoute(path: path)
            routes[path] = route
            return route
        }

        mutating func price(for model: String, in table: PriceTable) -> ModelPrice? {
            if let price = prices[model] { return price }
            let price = table.price(for: model)
            prices[model] = price
            return price
        }
    }

    /// What normalizing found worth counting in the metrics.
    package struct Tally: Sendable, Equatable {
        /// Token counts a provider sent that were not counted (negative, over a billion, not whole numbers).
        package var rejectedUsageCounts = 0

        package init() {}
    }

    package func record(from call: CapturedCall) -> CallRecord {
        var lookups = Lookups()
        return record(from: call, lookups: &lookups)
    }

    /// The records of a batch, in order; the same as `record(from:)` on each call.
    package func records(from calls: some Sequence<CapturedCall>) -> [CallRecord] {
        var tally = Tally()
        return records(from: calls, tally: &tally)
    }

    /// The records of a batch, adding to `tally` what they held worth counting.
    package func records(from calls: some Sequence<CapturedCall>, tally: inout Tally) -> [CallRecord] {
        var lookups = Lookups()
        var records: [CallRecord] = []
        records.reserveCapacity(calls.underestimatedCount)
        for call in calls { records.append(record(from: call, lookups: &lookups)) }
        tally.rejectedUsageCounts += lookups.rejectedUsageCounts
        return records
    }

    private func record(from call: CapturedCall, lookups: inout Lookups) -> CallRecord {
        let route = lookups.route(for: call.path)
        var record = CallRecord(actionID: call.actionID, timestampMicros: call.arrivedAtMicros)
        record.provider = route.provider
        Self.copyEnvelope(of: call, into: &record)
        var problems: [String] = []
        if call.outcome != .completed {
            problems.append(call.outcomeDetail ?? record.outcome.replacing("_", with: " "))
        }

        readRequest(of: call, with: route.adapter, into: &record, problems: &problems)
        let isEventStream = Self.isEventStream(call, requestedStream: record.stream)
        record.stream = record.stream || isEventStream
        if record.stream { record.ttftMS = call.firstByteMicros.map { Double($0) / 1000 } }

        if let reading = readResponse(of: call, with: route.adapter, asStream: isEventStream, problems: &problems) {
            apply(reading, to: &record, lookups: &lookups, problems: &problems)
            if let error = reading.errorMessage { problems.append(error) }
        }

        var unique: [String] = []
        for problem in problems where !unique.contains(problem) { unique.append(problem) }
        record.errorDetail = unique.isEmpty ? nil : unique.joined(separator: "; ")
        return record
    }

    private static func copyEnvelope(of call: CapturedCall, into record: inout CallRecord) {
        let metadata = call.metadata
        record.sessionID = metadata.sessionID
        record.userID = metadata.userID
        record.agentName = metadata.agentName
        record.appID = metadata.appID
        record.parentActionID = metadata.parentActionID
        record.environment = metadata.environment ?? "development"
        record.handoffFrom = metadata.handoffFrom
        record.handoffTo = metadata.handoffTo
        record.source = call.source.isEmpty ? nil : call.source
        record.statusCode = call.statusCode.map(Int.init)
        record.latencyMS = Double(call.completedMicros) / 1000
        record.blocked = call.outcome == .refused
        record.outcome = outcomeName(call.outcome)
    }

    static func outcomeName(_ outcome: CallOutcome) -> String {
        switch outcome {
        case .completed: "completed"
        case .upstreamFailed: "upstream_failed"
        case .clientDisconnected: "client_disconnected"
        case .upstreamUnreachable: "upstream_unreachable"
        case .refused: "refused"
        }
    }

    private func readRequest(
        of call: CapturedCall, with adapter: any ProviderAdapter.Type, into record: inout CallRecord,
        problems: inout [String]
    ) {
        guard !call.requestBody.isEmpty else { return }
        if let encoding = Self.contentEncoding(in: call.requestHeaders) {
            problems.append("request body is \(encoding)-encoded; not parsed")
            return
        }
        do {
            adapter.readRequest(try JSONReader.parse(call.requestBody), into: &record)
        } catch {
            let truncation = call.requestBodyTruncated ? " (body truncated at the capture limit)" : ""
            problems.append("unparseable request body: \(error)\(truncation)")
        }
    }

    /// A `text/event-stream` response, or a stream request whose answer is not a JSON document.
    private static func isEventStream(_ call: CapturedCall, requestedStream: Bool) -> Bool {
        let contentType = call.responseHeader("content-type")?.lowercased() ?? ""
        if contains(contentType, "text/event-stream") { return true }
        if contains(contentType, "json") || !requestedStream { return false }
        return call.responseBody.first { !isJSONSpace($0) } != UInt8(ascii: "{")
    }

    private func readResponse(
        of call: CapturedCall, with adapter: any ProviderAdapter.Type, asStream: Bool, problems: inout [String]
    ) -> ResponseReading? {
        let body = call.responseBody
        let isSuccess = call.statusCode.map { (200..<300).contains($0) } ?? true
        let truncation = call.responseBodyTruncated ? " (body truncated at the capture limit)" : ""
        if body.isEmpty {
            if let status = call.statusCode, !isSuccess {
                problems.append("upstream returned HTTP \(status) with an empty body")
            } else if call.statusCode != nil, call.outcome == .completed {
                problems.append("unparseable upstream response: empty body")
            }
            return nil
        }
        if let encoding = Self.contentEncoding(in: call.responseHeaders) {
            problems.append("response body is \(encoding)-encoded; not parsed")
            return nil
        }
        guard isSuccess else {
            problems.append(Self.errorDetail(ofFailed: body, adapter: adapter))
            return nil
        }
        if asStream, body.first(where: { !Self.isJSONSpace($0) }) != UInt8(ascii: "{") {
            let events = SSEParser.events(in: body)
            if events.isEmpty, call.outcome == .completed {
                problems.append("unparseable upstream response: no server-sent events")
            }
            if !truncation.isEmpty { problems.append("response stream truncated at the capture limit") }
            return adapter.readStream(events)
        }
        do {
            let document = try JSONReader.parse(body)
            if let message = UpstreamError.message(in: document, lenient: false) { problems.append(message) }
            return adapter.readResponse(document)
        } catch {
            problems.append("unparseable upstream response: \(error)\(truncation)")
            return nil
        }
    }

    /// The message of a non-2xx body: its JSON error message, a stream's error event, or its first 300 characters.
    private static func errorDetail(ofFailed body: [UInt8], adapter: any ProviderAdapter.Type) -> String {
        let document = try? JSONReader.parse(body)
        if let document, let message = UpstreamError.message(in: document, lenient: true) { return message }
        let events = SSEParser.events(in: body)
        if !events.isEmpty, let message = adapter.readStream(events).errorMessage { return message }
        return UpstreamError.excerpt(of: body)
    }

    private func apply(
        _ reading: ResponseReading, to record: inout CallRecord, lookups: inout Lookups, problems: inout [String]
    ) {
        record.content = reading.content
        record.toolCalls = reading.toolCalls.isEmpty ? nil : reading.toolCalls
        record.stopReason = reading.stopReason
        if record.modelID == nil { record.modelID = reading.model }
        guard let usage = reading.usage else { return }
        problems.append(contentsOf: usage.rejected)
        lookups.rejectedUsageCounts += usage.rejected.count
        guard !usage.isEmpty else { return }
        usage.apply(to: &record)
        let price =
            record.modelID.flatMap { lookups.price(for: $0, in: prices) }
            ?? reading.model.flatMap { lookups.price(for: $0, in: prices) }
        if let price {
            record.costUSD = usage.cost(at: price.forServiceTier(reading.serviceTier))
            record.priceTable = prices.version
        }
    }

    private static func isJSONSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    /// `text.contains(pattern)` for an ASCII `pattern`, compared as bytes when `text` is ASCII too (header values
    /// nearly always are), without the cost of a Unicode-aware search or of the generic collection search.
    private static func contains(_ text: String, _ pattern: StaticString) -> Bool {
        var text = text
        let found = text.withUTF8 { bytes -> Bool? in
            guard bytes.allSatisfy({ $0 < 0x80 }) else { return nil }
            return pattern.withUTF8Buffer { pattern in
                guard pattern.count <= bytes.count else { return false }
                return (0...(bytes.count - pattern.count)).contains { start in
                    pattern.indices.allSatisfy { bytes[start + $0] == pattern[$0] }
                }
            }
        }
        return found ?? text.contains(pattern.description)
    }

    /// A content coding other than `identity`, which would need decoding before the body can be read.
    private static func contentEncoding(in headers: [HeaderField]) -> String? {
        let value = headers.first { $0.hasName("content-encoding") }?.value.lowercased()
        guard let value else { return nil }
        let codings = value.split(separator: ",").map { String($0).filter { !$0.isWhitespace } }.filter {
            !$0.isEmpty && $0 != "identity"
        }
        return codings.isEmpty ? nil : codings.joined(separator: ", ")
    }
}
