import Foundation
import Synchronization

/// Per-sidecar ingest tokens from `AGENTLEDGER_INGEST_TOKENS_FILE`: each line `source-name token`, `#` starts a
/// comment. A sidecar proves the source it names in HELLO by presenting the token bound to it. Read at start and
/// again on SIGHUP (`reload()`); a file that no longer parses on reload leaves the previous tokens in force.
package final class IngestTokens: Sendable {
    /// A line of the file that is not `source token`, or a source named twice.
    package struct FileError: Error, CustomStringConvertible {
        package let description: String
    }

    package let path: String
    private let tokens: Mutex<[String: String]>

    /// Reads `path`; throws `FileError` when it cannot be read or parsed.
    package init(path: String) throws {
        self.path = path
        tokens = Mutex(try Self.read(path))
    }

    /// Tokens from a table already parsed (tests).
    package init(_ table: [String: String]) {
        path = ""
        tokens = Mutex(table)
    }

    /// How many sources have a token.
    package var count: Int { tokens.withLock { $0.count } }

    /// Reads the file again; on failure the tokens in force stay and the error is thrown.
    package func reload() throws {
        let table = try Self.read(path)
        tokens.withLock { $0 = table }
    }

    /// Whether `token` is the one bound to `source`, compared in constant time (for a given length).
    package func verify(source: String, token: String) -> Bool {
        let expected = tokens.withLock { $0[source] }
        // An unknown source is still compared, against nothing, so its answer takes as long as a wrong token's.
        let matches = IngestSession.constantTimeEquals(token, expected ?? "")
        return expected != nil && matches
    }

    static func read(_ path: String) throws -> [String: String] {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw FileError(description: "cannot read \(path): \(error.localizedDescription)")
        }
        return try parse(text)
    }

    /// Parses the file's text: one `source token` per line; blank lines and `#` comments ignored.
    package static func parse(_ text: String) throws -> [String: String] {
        var table: [String: String] = [:]
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.prefix { $0 != "#" }.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty { continue }
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count == 2 else {
                throw FileError(description: "line \(index + 1): expected 'source-name token'")
            }
            let source = String(fields[0])
            guard table[source] == nil else {
                throw FileError(description: "line \(index + 1): source '\(source)' has a token already")
            }
            table[source] = String(fields[1])
        }
        return table
    }
}
