import Hummingbird

/// A server-sent event stream written one event per write, so each event leaves the server on its own.
struct EventStream: Sendable {
    /// Events already framed (`data: ...\n\n` or `event: ...\ndata: ...\n\n`).
    var events: [String]
    var delay: Duration
    /// When set, the connection is dropped after this many events instead of ending the stream.
    var dropConnectionAfter: Int?

    /// Thrown out of the body writer to make Hummingbird close the connection mid-body.
    struct ConnectionDropped: Error {}

    /// An OpenAI-style `data:` event.
    static func data(_ payload: MockJSON) -> String {
        "data: \(payload.text)\n\n"
    }

    /// An Anthropic-style named event.
    static func event(_ name: String, _ payload: MockJSON) -> String {
        "event: \(name)\ndata: \(payload.text)\n\n"
    }

    func response(headers: HTTPFields) -> Response {
        var headers = headers
        headers[.contentType] = "text/event-stream; charset=utf-8"
        headers[.cacheControl] = "no-cache"
        let stream = self
        return Response(
            status: .ok,
            headers: headers,
            body: ResponseBody { writer in
                for (index, event) in stream.events.enumerated() {
                    if index == stream.dropConnectionAfter {
                        throw ConnectionDropped()
                    }
                    if index > 0, stream.delay > .zero {
                        try await Task.sleep(for: stream.delay)
                    }
                    try await writer.write(ByteBuffer(string: event))
                }
                if stream.dropConnectionAfter != nil {
                    throw ConnectionDropped()
                }
                try await writer.finish(nil)
            }
        )
    }
}
