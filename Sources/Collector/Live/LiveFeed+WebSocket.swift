import Foundation
import Hummingbird
import HummingbirdWebSocket

/// The `/ws` route: the live feed as WebSocket text messages (docs/reference.md, "Live feed").
extension LiveFeed {
    /// How long a client has to send `{"type":"auth",…}` when a key is configured.
    package static let authTimeout: Duration = .seconds(10)
    /// The largest message a client may send (it only ever sends the auth message).
    static let maximumClientMessage = 16 * 1024

    /// Adds `GET /ws` to a WebSocket router. The server sends `{"type":"ready"}` once the client is subscribed, then
    /// `{"type":"call", …record as /explain returns it}` per stored call, and `{"type":"missed","count":n}` when a
    /// slow client lost `n` calls. With `apiKey`, the client's first message must be `{"type":"auth","key":"…"}`
    /// within `authTimeout`, else the socket closes with 1008 (policy violation); the key is never read from the URL.
    /// A handshake `policy` refuses (its `Host` or `Origin`) is not upgraded: Hummingbird answers it `400` with no
    /// body, and it is counted in `counters`.
    package func addRoute<Context: WebSocketRequestContext>(
        to router: Router<Context>, apiKey: APIKey?, policy: HostOriginPolicy? = nil, counters: AccessCounters? = nil
    ) {
        router.ws(
            "ws",
            shouldUpgrade: { request, _ in
                guard let refusal = policy?.refusal(request) else { return .upgrade([:]) }
                counters?.add(refusal)
                return .dontUpgrade
            }
        ) { inbound, outbound, _ in
            try await self.serve(inbound: inbound, outbound: outbound, apiKey: apiKey)
        }
    }

    func serve(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, apiKey: APIKey?) async throws {
        let (authorized, authorize) = AsyncStream.makeStream(of: Void.self)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                var messages = inbound.messages(maxSize: Self.maximumClientMessage).makeAsyncIterator()
                if let apiKey {
                    let first = try await messages.next()
                    if let key = first.flatMap(Self.authKey), apiKey.accepts(key) { authorize.yield() }
                } else {
                    authorize.yield()
                }
                authorize.finish()
                while try await messages.next() != nil {}
            }
            group.addTask {
                guard await Self.signalled(authorized, within: Self.authTimeout) else {
                    try await outbound.close(.policyViolation, reason: "Unauthorized")
                    return
                }
                let subscription = self.subscribe()
                try await outbound.write(.text(#"{"type":"ready"}"#))
                for await event in subscription {
                    try await outbound.write(.text(Self.message(event)))
                }
            }
            // Whichever side ends first (the client left, a write failed, auth failed) ends the other.
            try await group.next()
            group.cancelAll()
        }
    }

    /// The text of one event: the record's JSON object with `"type":"call"` first, or the missed count.
    static func message(_ event: LiveEvent) -> String {
        switch event {
        case .missed(let count):
            return #"{"type":"missed","count":\#(count)}"#
        case .call(let record):
            // The record as `/explain` writes it, with `"type":"call"` spliced in after its opening brace.
            var bytes = Array(#"{"type":"call","#.utf8)
            var object: [UInt8] = []
            record.appendJSON(to: &object)
            bytes.append(contentsOf: object.dropFirst())
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    /// The key of an `{"type":"auth","key":"…"}` text message, nil for anything else.
    static func authKey(_ message: WebSocketMessage) -> String? {
        struct Auth: Decodable {
            var type: String
            var key: String
        }
        guard case .text(let text) = message,
            let auth = try? JSONDecoder().decode(Auth.self, from: Data(text.utf8)), auth.type == "auth"
        else { return nil }
        return auth.key
    }

    private static func signalled(_ signal: AsyncStream<Void>, within limit: Duration) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                for await _ in signal { return true }
                return false
            }
            group.addTask {
                try? await Task.sleep(for: limit)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }
}
