/// The request paths whose calls are recorded (docs/reference.md, "What is captured"); everything else is only forwarded.
package enum CapturedPaths {
    static let paths: Set<Substring> = ["/v1/chat/completions", "/v1/messages", "/v1/responses"]

    /// Whether a `POST` to this request target (path and query) is a captured LLM call.
    package static func captures(method: String, target: String) -> Bool {
        captures(method: method, path: path(of: target))
    }

    /// Whether a `POST` to this path (from `path(of:)`) is a captured LLM call.
    static func captures(method: String, path: Substring) -> Bool {
        method == "POST" && paths.contains(path)
    }

    /// OpenAI chat completions (and compatible gateways): the one format whose streams need usage asked for.
    static let openAIChat: Substring = "/v1/chat/completions"

    /// The path of a request target, without its query and trailing slashes.
    static func path(of target: String) -> Substring {
        var path = target[..<(target.utf8.firstIndex(of: UInt8(ascii: "?")) ?? target.endIndex)]
        while path.utf8.count > 1 && path.utf8.last == UInt8(ascii: "/") { path.removeLast() }
        return path
    }
}
