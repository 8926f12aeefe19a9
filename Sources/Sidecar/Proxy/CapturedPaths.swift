/// The request paths whose calls are recorded (CONTRACT.md section 4); everything else is only forwarded.
package enum CapturedPaths {
    static let paths: Set<Substring> = ["/v1/chat/completions", "/v1/messages", "/v1/responses"]

    /// Whether a `POST` to this request target (path and query) is a captured LLM call.
    package static func captures(method: String, target: String) -> Bool {
        method == "POST" && paths.contains(path(of: target))
    }

    /// OpenAI chat completions (and compatible gateways): the one format whose streams need usage asked for.
    static let openAIChat: Substring = "/v1/chat/completions"

    /// The path of a request target, without its query and trailing slashes.
    static func path(of target: String) -> Substring {
        var path = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        while path.count > 1 && path.last == "/" { path.removeLast() }
        return path
    }
}
