import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Which `Host` and `Origin` headers the HTTP API, exports, the dashboard and `/ws` answer (docs/operations.md,
/// "HTTP API and dashboard"). Two attacks are kept out: a web page on another origin reading the API or the live
/// feed through the user's browser (`Origin`), and DNS rebinding, where a name the attacker controls is pointed at
/// this server so that page counts as same-origin (`Host`).
///
/// - `Host` must be an IP literal, `localhost` (or a name under `.localhost`), or a name in
///   `AGENTLEDGER_ALLOWED_HOSTS`. When that variable is unset and `AGENTLEDGER_API_KEY` is set, any `Host` is
///   accepted: a rebound page cannot present the key. A request with no `Host` (HTTP/1.0) names nothing to rebind.
/// - A request with an `Origin` must be same-origin (the origin's host and port are the `Host` header's) or its
///   origin must be listed in `AGENTLEDGER_ALLOWED_ORIGINS` (`*` lists every origin).
package struct HostOriginPolicy: Sendable, Equatable {
    /// Why a request was refused, with the message its 403 carries.
    package enum Refusal: Equatable, Sendable {
        case host(String)
        case origin(String)

        package var message: String {
            switch self {
            case .host(let message), .origin(let message): message
            }
        }
    }

    /// A value of `AGENTLEDGER_ALLOWED_ORIGINS` or `AGENTLEDGER_ALLOWED_HOSTS` that cannot be used.
    package struct SettingError: Error, CustomStringConvertible, Equatable {
        package var description: String
    }

    /// Origins accepted besides the same origin, normalized (`scheme://host[:port]`, default port left out).
    private var allowedOrigins: Set<String> = []
    private var anyOrigin = false
    /// Host names accepted besides IP literals and `localhost`, lower-cased, without a trailing dot.
    private var allowedHosts: Set<String> = []
    /// Suffixes (`.example.com`) from entries written `*.example.com` or `.example.com`.
    private var allowedHostSuffixes: [String] = []
    private var anyHost = false
    /// Whether `AGENTLEDGER_ALLOWED_HOSTS` was set (the message then does not suggest an API key).
    private var hostsListed = false

    /// The policy from the two variables' raw values (nil or empty when unset) and whether an API key is set.
    package init(allowedOrigins: String? = nil, allowedHosts: String? = nil, apiKeySet: Bool) throws(SettingError) {
        for entry in Self.entries(allowedOrigins) {
            if entry == "*" {
                anyOrigin = true
            } else if let origin = Self.Origin(entry) {
                self.allowedOrigins.insert(origin.normalized)
            } else {
                throw SettingError(
                    description:
                        "AGENTLEDGER_ALLOWED_ORIGINS: '\(entry)' is not an origin: write scheme://host[:port] (https://dash.example.com), or *"
                )
            }
        }
        let hosts = Self.entries(allowedHosts)
        hostsListed = !hosts.isEmpty
        anyHost = hosts.isEmpty && apiKeySet
        for entry in hosts {
            if entry == "*" {
                anyHost = true
                continue
            }
            var name = entry.lowercased()
            if name.hasSuffix(".") { name.removeLast() }
            let wildcard = name.hasPrefix("*.") || name.hasPrefix(".")
            if name.hasPrefix("*") { name.removeFirst() }
            let bare = wildcard ? String(name.dropFirst()) : name
            guard !bare.isEmpty, bare.utf8.allSatisfy(Self.isNameByte), !bare.hasPrefix("."), !bare.contains("..") else {
                throw SettingError(
                    description:
                        "AGENTLEDGER_ALLOWED_HOSTS: '\(entry)' is not a host name: write names (dash.example.com, *.example.com) without scheme or port, or *"
                )
            }
            if wildcard { allowedHostSuffixes.append("." + bare) } else { self.allowedHosts.insert(bare) }
        }
    }

    /// Nil when a request with these headers may be served; `host` is the `Host` header (or HTTP/2 authority).
    package func refusal(host: String?, origin: String?) -> Refusal? {
        let authority = host.flatMap(Self.Authority.init)
        if let host, !acceptsHost(authority) {
            let advice =
                hostsListed
                ? "list it in AGENTLEDGER_ALLOWED_HOSTS"
                : "list it in AGENTLEDGER_ALLOWED_HOSTS (or set AGENTLEDGER_API_KEY)"
            return .host("Host '\(Self.shown(host))' is not allowed: a DNS name must be allowed by name; \(advice)")
        }
        guard let origin else { return nil }
        if anyOrigin { return nil }
        if let parsed = Self.Origin(origin) {
            if allowedOrigins.contains(parsed.normalized) { return nil }
            if let authority, parsed.host == authority.host,
                parsed.port == (authority.port ?? Self.defaultPort(parsed.scheme))
            {
                return nil
            }
        }
        return .origin("Origin '\(Self.shown(origin))' is not allowed: list it in AGENTLEDGER_ALLOWED_ORIGINS")
    }

    private func acceptsHost(_ authority: Authority?) -> Bool {
        if anyHost { return true }
        guard let authority else { return false }
        let name = authority.host
        if authority.isIPLiteral || name == "localhost" || name.hasSuffix(".localhost") { return true }
        return allowedHosts.contains(name) || allowedHostSuffixes.contains { name.hasSuffix($0) }
    }

    /// A header value as it may appear in a message: bounded, printable ASCII only.
    static func shown(_ value: String) -> String {
        let printable = value.unicodeScalars.prefix(120).map {
            $0.isASCII && $0.value >= 0x20 && $0.value < 0x7f ? Character($0) : "?"
        }
        return String(printable) + (value.unicodeScalars.count > 120 ? "…" : "")
    }

    static func entries(_ raw: String?) -> [String] {
        (raw ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    static func isNameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"),
            UInt8(ascii: "."), UInt8(ascii: "_"):
            true
        default: false
        }
    }

    static func defaultPort(_ scheme: String) -> Int? {
        switch scheme {
        case "http", "ws": 80
        case "https", "wss": 443
        default: nil
        }
    }

    /// The host and optional port of a `Host` header: `name`, `name:port`, `1.2.3.4:port`, `[::1]:port`.
    struct Authority: Equatable {
        var host: String
        var port: Int?
        var isIPLiteral: Bool

        init?(_ text: String) {
            let text = text.trimmingCharacters(in: .whitespaces).lowercased()
            var hostPart = Substring(text)
            var portPart: Substring?
            if text.hasPrefix("[") {
                guard let close = text.firstIndex(of: "]") else { return nil }
                hostPart = text[text.startIndex...close]
                let rest = text[text.index(after: close)...]
                if !rest.isEmpty {
                    guard rest.hasPrefix(":") else { return nil }
                    portPart = rest.dropFirst()
                }
            } else if let colon = text.firstIndex(of: ":") {
                hostPart = text[..<colon]
                portPart = text[text.index(after: colon)...]
            }
            if let portPart {
                guard let port = Int(portPart), (0...65_535).contains(port) else { return nil }
                self.port = port
            }
            var name = String(hostPart)
            if name.hasSuffix(".") { name.removeLast() }
            guard !name.isEmpty else { return nil }
            host = name
            isIPLiteral = Self.isIPLiteral(name)
        }

        /// Dotted-quad IPv4 or bracketed IPv6, as browsers write them: never a name a resolver could answer.
        static func isIPLiteral(_ host: String) -> Bool {
            var bytes = [UInt8](repeating: 0, count: 16)
            if host.hasPrefix("[") && host.hasSuffix("]") {
                return inet_pton(AF_INET6, String(host.dropFirst().dropLast()), &bytes) == 1
            }
            return inet_pton(AF_INET, host, &bytes) == 1
        }
    }

    /// An `Origin` header value or an entry of `AGENTLEDGER_ALLOWED_ORIGINS`: `scheme://host[:port]`.
    struct Origin: Equatable {
        var scheme: String
        var host: String
        var port: Int?

        init?(_ text: String) {
            var text = text.trimmingCharacters(in: .whitespaces).lowercased()
            if text.hasSuffix("/") { text.removeLast() }
            guard let separator = text.range(of: "://") else { return nil }
            scheme = String(text[..<separator.lowerBound])
            guard !scheme.isEmpty, scheme.utf8.allSatisfy({ Self.isSchemeByte($0) }),
                let authority = Authority(String(text[separator.upperBound...])),
                !authority.host.contains("/"), !authority.host.contains("@")
            else { return nil }
            host = authority.host
            port = authority.port ?? HostOriginPolicy.defaultPort(scheme)
        }

        /// `scheme://host[:port]` with the scheme's default port left out.
        var normalized: String {
            guard let port, port != HostOriginPolicy.defaultPort(scheme) else { return "\(scheme)://\(host)" }
            return "\(scheme)://\(host):\(port)"
        }

        static func isSchemeByte(_ byte: UInt8) -> Bool {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "+"),
                UInt8(ascii: "-"), UInt8(ascii: "."):
                true
            default: false
            }
        }
    }
}
