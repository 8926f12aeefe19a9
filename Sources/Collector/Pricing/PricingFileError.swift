/// Why the price file named by `AGENTLEDGER_PRICING_FILE` cannot be used; its description is one line that names
/// the variable, the path and the problem, for the CLI to print before it exits with status 2.
package struct PricingFileError: Error, Equatable, CustomStringConvertible {
    /// What is wrong with the file.
    package enum Problem: Error, Equatable, CustomStringConvertible {
        case unreadable(String)
        case tooLarge(limit: Int)
        case notJSON(String)
        case unrecognisedFormat
        case unexpectedField(model: String?, field: String)
        case notAnObject(model: String?, field: String?)
        case missingPrice(model: String, field: String)
        case invalidPrice(model: String, field: String, reason: String)
        case invalidName(String)
        case sameModelTwice(String, String)

        package var description: String {
            switch self {
            case .unreadable(let reason): "cannot be read: \(reason)"
            case .tooLarge(let limit): "is larger than \(limit / (1 << 20)) MiB"
            case .notJSON(let reason): "is not JSON: \(reason)"
            case .unrecognisedFormat:
                #"is neither AgentLedger's {"models": {...}} format nor LiteLLM's model_prices_and_context_window.json"#
            case .unexpectedField(nil, let field): "has an unknown top-level field \"\(field)\""
            case .unexpectedField(let model?, let field): "model \"\(model)\" has an unknown field \"\(field)\""
            case .notAnObject(nil, let field?): "\"\(field)\" is not an object"
            case .notAnObject(nil, nil): "is not a JSON object"
            case .notAnObject(let model?, _): "model \"\(model)\" is not an object"
            case .missingPrice(let model, let field): "model \"\(model)\" has no \"\(field)\" price"
            case .invalidPrice(let model, let field, let reason): "model \"\(model)\": \"\(field)\" \(reason)"
            case .invalidName(let reason): reason
            case .sameModelTwice(let first, let second): "\"\(first)\" and \"\(second)\" name the same model"
            }
        }
    }

    package var path: String
    package var problem: Problem

    package init(path: String, problem: Problem) {
        self.path = path
        self.problem = problem
    }

    package var description: String { "AGENTLEDGER_PRICING_FILE \(path): \(problem)" }
}
