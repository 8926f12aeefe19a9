import LedgerProviders

/// The requests whose calls are recorded (docs/reference.md, "What is captured"); everything else is only forwarded.
/// The rule is the provider descriptions' (`ProviderFormat.captured`), the same one the collector routes records by.
package enum CapturedPaths {
    /// Whether a `POST` to this request target (path and query) is a captured LLM call.
    package static func captures(method: String, target: String) -> Bool {
        format(method: method, path: path(of: target)) != nil
    }

    /// The wire format of a request to this path (from `path(of:)`), or nil when it is not a captured LLM call.
    package static func format(method: String, path: Substring) -> ProviderFormat? {
        ProviderFormat.captured(method: method, path: path)
    }

    /// The path of a request target, without its query and trailing slashes.
    static func path(of target: String) -> Substring {
        ProviderPaths.path(of: target)
    }
}
