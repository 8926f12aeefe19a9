import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// Why the upstream gave no answer, or not all of one: a few words of ours for the agent and the log (`reason`),
/// and the library's own description for the log alone (`cause`). Agents never see a library's words.
struct UpstreamFailure: Error, Sendable {
    var reason: String
    var cause: String?

    init(_ reason: String, cause: String? = nil) {
        self.reason = reason
        self.cause = cause
    }

    init(_ error: any Error) {
        self.init(Self.words(for: error), cause: "\(error)")
    }

    /// What went wrong, in words an operator can act on; never an address, a path or a header.
    static func words(for error: any Error) -> String {
        switch error {
        case let error as UpstreamFailure:
            return error.reason
        case let error as NIOConnectionError:
            if let first = error.connectionErrors.first { return words(for: first.error) }
            if error.dnsAError != nil || error.dnsAAAAError != nil { return "the host name could not be resolved" }
            return "the host name has no address"
        case let error as ChannelError:
            switch error {
            case .connectTimeout(let amount): return "connection timed out after \(amount.wholeSeconds) s"
            case .ioOnClosedChannel, .alreadyClosed, .eof, .outputClosed, .inputClosed: return "the connection was closed"
            default: return "connection failed"
            }
        case let error as IOError:
            return words(errno: error.errnoCode)
        case is NIOSSLError, is NIOSSLExtraError, is BoringSSLError:
            let text = "\(error)".lowercased()
            if text.contains("certificate_verify_failed") || text.contains("certificate verify failed") {
                return "TLS certificate not trusted"
            }
            if text.contains("hostname") { return "TLS certificate does not match the host name" }
            if case NIOSSLError.uncleanShutdown = error { return "TLS connection closed without a TLS close" }
            return "TLS handshake failed"
        case is HTTPParserError:
            return "invalid HTTP response"
        default:
            return "connection failed"
        }
    }

    private static func words(errno code: Int32) -> String {
        switch code {
        case ECONNREFUSED: "connection refused"
        case ECONNRESET: "connection reset"
        case ETIMEDOUT: "connection timed out"
        case EHOSTUNREACH: "host unreachable"
        case ENETUNREACH: "network unreachable"
        case EPIPE: "connection closed"
        case EADDRNOTAVAIL: "address not available"
        default: "network error (errno \(code))"
        }
    }
}
