import Crypto
import NIOCore

/// One file of the dashboard, embedded in the binary so the collector serves it with no resource bundle, air-gapped.
package struct DashboardAsset: Sendable {
    package let name: String
    package let text: String
    package let contentType: String
    /// A strong validator of the content, quoted as the `ETag` header wants it.
    package let etag: String
    let body: ByteBuffer

    init(name: String, bytes: [UInt8]) {
        self.init(name: name, text: String(decoding: bytes, as: UTF8.self))
    }

    init(name: String, text: String) {
        self.name = name
        self.text = text
        contentType = Self.contentType(of: name)
        let digest = SHA256.hash(data: Array(text.utf8))
        etag = "\"" + digest.prefix(12).map { String($0, radix: 16).leftPadded(to: 2) }.joined() + "\""
        body = ByteBuffer(string: text)
    }

    static func contentType(of name: String) -> String {
        switch name.split(separator: ".").last {
        case "html": "text/html; charset=utf-8"
        case "css": "text/css; charset=utf-8"
        case "js": "text/javascript; charset=utf-8"
        case "svg": "image/svg+xml"
        case "json": "application/json"
        default: "application/octet-stream"
        }
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
