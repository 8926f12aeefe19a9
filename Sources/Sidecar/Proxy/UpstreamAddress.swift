import Foundation

/// Where calls go: `AGENTLEDGER_UPSTREAM_URL` taken apart once, for the connection pool and the request line.
package struct UpstreamAddress: Sendable, Equatable {
    package var tls: Bool
    package var host: String
    package var port: Int
    /// The URL's path without a trailing slash ("" for none), put in front of every request target.
    package var pathPrefix: String
    /// The `Host` header sent upstream: the host, and the port when it is not the scheme's default.
    package var hostHeader: String
    /// `scheme://host:port`, always with the port: how errors and logs name the upstream (no path, no query).
    package var origin: String

    /// Nil when `url` is not an `http://` or `https://` URL with a host.
    package init?(_ url: String) {
        guard let parsed = URLComponents(string: url), let scheme = parsed.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = parsed.host, !host.isEmpty
        else { return nil }
        tls = scheme == "https"
        let defaultPort = tls ? 443 : 80
        port = parsed.port ?? defaultPort
        // URLComponents keeps the brackets of an IPv6 literal in `host` on some platforms and not on others.
        self.host = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        let bracketed = self.host.contains(":") ? "[\(self.host)]" : self.host
        hostHeader = port == defaultPort ? bracketed : "\(bracketed):\(port)"
        origin = "\(tls ? "https" : "http")://\(bracketed):\(port)"
        var path = Substring(parsed.percentEncodedPath)
        while path.last == "/" { path.removeLast() }
        pathPrefix = String(path)
    }
}
