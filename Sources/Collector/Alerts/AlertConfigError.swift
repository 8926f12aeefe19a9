/// A bad alert setting, naming its environment variable.
package struct AlertConfigError: Error, Equatable, CustomStringConvertible {
    package let variable: String
    package let reason: String

    package init(variable: String, reason: String) {
        self.variable = variable
        self.reason = reason
    }

    package var description: String { "\(variable) is not valid: \(reason)" }
}
