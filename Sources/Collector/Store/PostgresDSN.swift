import Foundation
import PostgresNIO

/// A `postgres://user:password@host:port/database?sslmode=...` address, parsed once at start.
///
/// `sslmode` follows libpq: `disable`; `prefer` (the default) and `require` encrypt without checking the
/// certificate; `verify-ca` checks the chain; `verify-full` checks the chain and the host name.
package struct PostgresDSN: Sendable, Equatable {
    package enum TLSMode: String, Sendable, CaseIterable {
        case disable, prefer, require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"
    }

    package var host: String
    package var port = 5432
    package var username = "postgres"
    package var password: String?
    package var database: String
    package var tlsMode = TLSMode.prefer

    /// Parses `text`; the error names what is wrong and never repeats the password.
    package init(_ text: String) throws {
        guard text.hasPrefix("postgres://") || text.hasPrefix("postgresql://"),
            let components = URLComponents(string: text)
        else {
            throw StoreError("not a postgres:// URL: write postgres://user:password@host:port/database")
        }
        guard let host = components.percentEncodedHost.flatMap({ $0.removingPercentEncoding }), !host.isEmpty else {
            throw StoreError("names no host: write postgres://user:password@host:port/database")
        }
        self.host = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        if let port = components.port {
            guard (1...65535).contains(port) else { throw StoreError("port \(port) is out of range") }
            self.port = port
        }
        if let user = components.percentEncodedUser?.removingPercentEncoding, !user.isEmpty {
            username = user
        }
        password = components.percentEncodedPassword?.removingPercentEncoding
        let path = components.percentEncodedPath.removingPercentEncoding ?? ""
        database = path.hasPrefix("/") ? String(path.dropFirst()) : path
        if database.isEmpty { database = username }
        guard !database.contains("/") else { throw StoreError("database name '\(database)' contains '/'") }
        for item in components.queryItems ?? [] {
            guard item.name == "sslmode" else {
                throw StoreError("unsupported parameter '\(item.name)' (supported: sslmode)")
            }
            guard let mode = item.value.flatMap(TLSMode.init(rawValue:)) else {
                let modes = TLSMode.allCases.map(\.rawValue).joined(separator: ", ")
                throw StoreError("sslmode '\(item.value ?? "")' is not one of \(modes)")
            }
            tlsMode = mode
        }
    }

    /// The address without its password, for logs and the start-up banner.
    package var redacted: String {
        let hostPart = host.contains(":") ? "[\(host)]" : host
        return "postgres://\(username)\(password == nil ? "" : ":***")@\(hostPart):\(port)/\(database)"
            + (tlsMode == .prefer ? "" : "?sslmode=\(tlsMode.rawValue)")
    }

    private var tlsConfiguration: TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        switch tlsMode {
        case .disable, .prefer, .require: configuration.certificateVerification = .none
        case .verifyCA: configuration.certificateVerification = .noHostnameVerification
        case .verifyFull: configuration.certificateVerification = .fullVerification
        }
        return configuration
    }

    /// The pool's configuration.
    package var clientConfiguration: PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS =
            switch tlsMode {
            case .disable: .disable
            case .prefer: .prefer(tlsConfiguration)
            case .require, .verifyCA, .verifyFull: .require(tlsConfiguration)
            }
        return PostgresClient.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: tls)
    }

    /// The configuration of a single connection outside the pool (migrations run on one at start).
    package func connectionConfiguration() throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS =
            switch tlsMode {
            case .disable: .disable
            case .prefer: .prefer(try NIOSSLContext(configuration: tlsConfiguration))
            case .require, .verifyCA, .verifyFull: .require(try NIOSSLContext(configuration: tlsConfiguration))
            }
        return PostgresConnection.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: tls)
    }
}
