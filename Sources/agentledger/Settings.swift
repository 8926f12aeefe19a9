import Foundation

/// A setting that could not be used; the message names the variable (and flag): start-up stops with that one line
/// and exit code 2 (README.md, "Configuration").
struct ConfigurationError: Error, CustomStringConvertible {
    var description: String
}

/// Resolves each setting from its flag, then its environment variable, then its default, and validates it once.
struct Settings {
    var environment: [String: String] = ProcessInfo.processInfo.environment

    /// The raw value and where it came from, for messages.
    private func raw(_ flag: String?, _ variable: String) -> (value: String, origin: String)? {
        assert(KnownVariables.settings.contains(variable), "\(variable) is read but not in KnownVariables.settings")
        if let flag { return (flag, "--\(Self.flagName(variable))") }
        if let value = environment[variable], !value.isEmpty { return (value, variable) }
        return nil
    }

    static func flagName(_ variable: String) -> String {
        variable.dropFirst("AGENTLEDGER_".count).lowercased().replacingOccurrences(of: "_", with: "-")
    }

    func string(_ flag: String?, _ variable: String) -> String? {
        raw(flag, variable)?.value
    }

    func string(_ flag: String?, _ variable: String, default value: String) -> String {
        raw(flag, variable)?.value ?? value
    }

    func integer(_ flag: String?, _ variable: String, default value: Int, in range: ClosedRange<Int>) throws -> Int {
        guard let (text, origin) = raw(flag, variable) else { return value }
        guard let number = Int(text.trimmingCharacters(in: .whitespaces)), range.contains(number) else {
            throw ConfigurationError(
                description:
                    "\(origin)=\(quoted(text)) is not valid: expected an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }

    /// An optional whole number in `range`; nil when unset.
    func integer(_ flag: String?, _ variable: String, in range: ClosedRange<Int>) throws -> Int? {
        guard raw(flag, variable) != nil else { return nil }
        return try integer(flag, variable, default: 0, in: range)
    }

    /// An optional non-negative decimal (USD, milliseconds, a ratio up to `maximum`); nil when unset.
    func decimal(_ flag: String?, _ variable: String, maximum: Double = .greatestFiniteMagnitude) throws -> Double? {
        guard let (text, origin) = raw(flag, variable) else { return nil }
        guard let number = Double(text.trimmingCharacters(in: .whitespaces)), number.isFinite, number >= 0,
            number <= maximum
        else {
            let bound = maximum == .greatestFiniteMagnitude ? "" : " up to \(maximum)"
            throw ConfigurationError(description: "\(origin)=\(quoted(text)) is not valid: expected a number from 0\(bound)")
        }
        return number
    }

    func port(_ flag: String?, _ variable: String, default value: Int) throws -> Int {
        try integer(flag, variable, default: value, in: 0...65_535)
    }

    func choice(_ flag: String?, _ variable: String, default value: String, among choices: [String]) throws -> String {
        guard let (text, origin) = raw(flag, variable) else { return value }
        guard choices.contains(text) else {
            throw ConfigurationError(
                description: "\(origin)=\(quoted(text)) is not valid: expected one of \(choices.joined(separator: ", "))")
        }
        return text
    }

    /// An `http://` or `https://` URL with a host.
    func url(_ flag: String?, _ variable: String, default value: String) throws -> String {
        let (text, origin) = raw(flag, variable) ?? (value, variable)
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = url.host, !host.isEmpty
        else {
            throw ConfigurationError(description: "\(origin)=\(quoted(text)) is not valid: expected an http:// or https:// URL")
        }
        return text
    }

    /// One `host:port` address, or a comma-separated list of them (`[::1]:4600` for IPv6), in order, none repeated.
    func addresses(_ flag: String?, _ variable: String, default value: String) throws -> [(host: String, port: Int)] {
        let (text, origin) = raw(flag, variable) ?? (value, variable)
        var addresses: [(host: String, port: Int)] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let item = part.trimmingCharacters(in: .whitespaces)
            guard let colon = item.lastIndex(of: ":"), let port = Int(item[item.index(after: colon)...]),
                (1...65_535).contains(port), colon > item.startIndex
            else {
                throw ConfigurationError(
                    description: "\(origin)=\(quoted(text)) is not valid: expected host:port, or several separated by commas")
            }
            var host = String(item[..<colon])
            if host.hasPrefix("[") && host.hasSuffix("]") && host.count > 2 {
                host = String(host.dropFirst().dropLast())  // an IPv6 address
            } else if !isHostName(host) {
                throw ConfigurationError(
                    description: "\(origin)=\(quoted(text)) is not valid: \(quoted(host)) is not a host name or address")
            }
            guard !addresses.contains(where: { $0.host == host && $0.port == port }) else {
                throw ConfigurationError(description: "\(origin)=\(quoted(text)) is not valid: \(item) is listed twice")
            }
            addresses.append((host, port))
        }
        return addresses
    }

    /// Letters, digits, `.`, `-` and `_`: a DNS name or an IPv4 address (an IPv6 address goes in brackets).
    private func isHostName(_ host: String) -> Bool {
        !host.isEmpty
            && host.utf8.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: "_"):
                    true
                default: false
                }
            }
    }

    private func quoted(_ text: String) -> String { "'\(text)'" }
}
