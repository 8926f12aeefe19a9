extension Message {
    /// The whole frame: length, version, type, payload.
    package func encodedFrame() -> [UInt8] {
        var writer = ByteWriter(capacity: 64)
        encodeFrame(into: &writer)
        return writer.bytes
    }

    /// Appends the whole frame to `writer`.
    package func encodeFrame(into writer: inout ByteWriter) {
        let start = writer.bytes.count
        writer.write(UInt32(0))  // length, patched below
        let version = frameVersion
        writer.write(version)
        writer.write(type.rawValue)
        encodePayload(into: &writer)
        writer.patch(UInt32(writer.bytes.count - start - 4), at: start)
    }

    private func encodePayload(into w: inout ByteWriter) {
        switch self {
        case .hello(let hello):
            w.write(hello.protocolVersion)
            w.write(hello.source)
            w.write(optional: hello.ingestToken)
            w.write(hello.softwareVersion)
        case .welcome(let welcome):
            w.write(welcome.protocolVersion)
            w.write(welcome.collectorID)
            w.write(welcome.maxFrameBytes)
            w.write(welcome.admissionRequired)
        case .admit(let admit):
            w.write(admit.requestID)
            w.write(admit.actionID)
            w.write(optional: admit.sessionID)
            w.write(optional: admit.agentName)
            w.write(optional: admit.userID)
            w.write(optional: admit.appID)
            w.write(admit.model)
            w.write(admit.bodyBytes)
            w.write(optional: admit.maxTokens)
            if admit.environment != nil { w.write(optional: admit.environment) }
        case .verdict(let verdict):
            w.write(verdict.requestID)
            w.write(verdict.decision.rawValue)
            w.write(optional: verdict.refusalType)
            w.write(optional: verdict.message)
            w.write(optional: verdict.retryAfterSeconds)
        case .records(let records):
            w.write(records.batchID)
            w.write(UInt32(records.calls.count + records.rejected.count))
            for call in records.calls {
                let lengthAt = w.bytes.count
                w.write(UInt32(0))
                call.encodeFields(into: &w)
                w.patch(UInt32(w.bytes.count - lengthAt - 4), at: lengthAt)
            }
            for record in records.rejected { w.write(bytes: record.bytes) }
        case .ack(let ack):
            w.write(ack.batchID)
            w.write(ack.stored)
            w.write(ack.duplicates)
        case .ping(let nonce), .pong(let nonce):
            w.write(nonce)
        case .error(let error):
            w.write(error.code.rawValue)
            w.write(error.message)
            w.write(error.batchID != nil)
            if let batchID = error.batchID { w.write(batchID) }
        case .status(let status):
            status.encodeFields(into: &w)
        }
    }
}

extension Message {
    /// Decodes the payload of a frame whose header was already checked; `version` is the frame's version byte.
    package static func decode(type: MessageType, version: UInt8 = WireFormat.version, payload: ArraySlice<UInt8>)
        throws(ProtocolError) -> Message
    {
        var r = ByteReader(payload)
        let message: Message
        switch type {
        case .hello:
            message = .hello(
                Hello(
                    protocolVersion: try r.readUInt16("protocol version"), source: try r.readString("source"),
                    ingestToken: try r.readOptionalString("ingest token"),
                    softwareVersion: try r.readString("software version")))
        case .welcome:
            message = .welcome(
                Welcome(
                    protocolVersion: try r.readUInt16("protocol version"),
                    collectorID: try r.readString("collector id"), maxFrameBytes: try r.readUInt32("max frame bytes"),
                    admissionRequired: try r.readBool("admission required")))
        case .admit:
            message = .admit(
                Admit(
                    requestID: try r.readUInt64("request id"), actionID: try r.readString("action id"),
                    sessionID: try r.readOptionalString("session id"), agentName: try r.readOptionalString("agent name"),
                    userID: try r.readOptionalString("user id"), appID: try r.readOptionalString("app id"),
                    model: try r.readString("model"), bodyBytes: try r.readUInt32("body bytes"),
                    maxTokens: try r.readOptionalUInt32("max tokens"),
                    environment: version >= 2 ? try r.readOptionalString("environment") : nil))
        case .verdict:
            let requestID = try r.readUInt64("request id")
            let raw = try r.readUInt8("decision")
            guard let decision = Verdict.Decision(rawValue: raw) else { throw .malformed("unknown decision \(raw)") }
            message = .verdict(
                Verdict(
                    requestID: requestID, decision: decision, refusalType: try r.readOptionalString("refusal type"),
                    message: try r.readOptionalString("message"),
                    retryAfterSeconds: try r.readOptionalUInt32("retry after")))
        case .records:
            let batchID = try r.readUInt64("batch id")
            let count = try r.readUInt32("record count")
            // Each record takes at least its 4-byte length: a count beyond that is a lie, not an allocation.
            guard Int(count) <= r.remaining / 4 else {
                throw .malformed("record count \(count) exceeds what \(r.remaining) bytes can hold")
            }
            var calls: [CapturedCall] = []
            // A call is ~300 bytes in memory: reserving a lying count up front could ask for gigabytes.
            calls.reserveCapacity(min(Int(count), 1024))
            var rejected: [RejectedRecord] = []
            for _ in 0..<count {
                // A record whose length is wrong breaks the frame; one whose fields are wrong is set aside alone, so
                // the collector can quarantine it and store the rest of the batch.
                let bytes = try r.readBytes("record")
                do {
                    calls.append(try CapturedCall.decodeFields(bytes))
                } catch {
                    rejected.append(RejectedRecord(bytes: Array(bytes), reason: error.description))
                }
            }
            message = .records(Records(batchID: batchID, calls: calls, rejected: rejected))
        case .ack:
            message = .ack(
                Ack(
                    batchID: try r.readUInt64("batch id"), stored: try r.readUInt32("stored"),
                    duplicates: try r.readUInt32("duplicates")))
        case .ping:
            message = .ping(nonce: try r.readUInt64("nonce"))
        case .pong:
            message = .pong(nonce: try r.readUInt64("nonce"))
        case .error:
            let code = ErrorMessage.Code(rawValue: try r.readUInt16("error code"))
            let text = try r.readString("error message")
            let batchID = try r.readBool("presence of batch id") ? try r.readUInt64("batch id") : nil
            message = .error(ErrorMessage(code: code, message: text, batchID: batchID))
        case .status:
            guard version >= 2 else { throw .malformed("STATUS needs a version-2 frame") }
            message = .status(try SidecarStatus.decodeFields(&r))
        }
        try r.expectEnd("\(type) payload")
        return message
    }
}
