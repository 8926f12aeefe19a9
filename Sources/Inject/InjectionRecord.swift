import Foundation

/// What inject added to one pod template, kept in its `agentledger.io/injected` annotation as JSON, so that
/// `--uninject` removes exactly that and restores what it changed (docs/operations.md, "Kubernetes").
struct InjectionRecord: Codable, Equatable {
    /// Format version.
    var v = 1
    /// Per agent container, the variables inject added to its `env`.
    var env: [String: [String]] = [:]
    /// Fields inject created because they were absent: `metadata`, `labels`, `annotations`, `initContainers`,
    /// `volumes`, and `env:<container>`. Uninject removes them again once empty.
    var created: [String] = []
    /// Whether inject added the agent label (it was not there).
    var label = false
    /// `terminationGracePeriodSeconds` before inject raised it: a number, or nil for absent. Only present when
    /// inject changed it (`graceChanged`).
    var grace: Int?
    var graceChanged = false

    func encoded() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(self)) ?? Data("{}".utf8), as: UTF8.self)
    }

    static func decoded(_ text: String) -> InjectionRecord? {
        try? JSONDecoder().decode(InjectionRecord.self, from: Data(text.utf8))
    }
}
