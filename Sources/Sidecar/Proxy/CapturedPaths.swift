/// The request paths whose calls are recorded (CONTRACT.md section 4); everything else is only forwarded.
package enum CapturedPaths {
    static let paths: Set<Substring> = ["/v1/chat/completions", "/v1/messages", "/v1/responses"]

    /// Whether a `POST` to this request target (path and query) is a captured LLM call.
    package static func captures(method: String, target: String) -> Bool {
        guard method == "POST" else { return false }
        let path = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        var trimmed = path
        while trimmed.count > 1 && trimmed.last == "/" { trimmed.removeLast() }
        return paths.contains(trimmed)
    }
}
