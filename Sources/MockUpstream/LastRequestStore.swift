import Foundation
import Hummingbird

/// Keeps the last request the mock received, for `GET /debug/last-request`.
actor LastRequestStore {
    private var last: MockJSON = nil

    func record(_ request: Request, body: ByteBuffer) {
        let headers: [MockJSON] = request.headers.map { [.string($0.name.rawName), .string($0.value)] }
        last = [
            "method": .string(request.method.rawValue),
            "path": .string(request.uri.string),
            "headers": .array(headers),
            "body_base64": .string(Data(body.readableBytesView).base64EncodedString()),
        ]
    }

    /// The recorded request as JSON, `null` before the first request.
    func snapshot() -> MockJSON {
        last
    }
}
