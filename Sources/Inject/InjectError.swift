/// Why `agentledger inject` refused its input: one line, naming the document and the field.
package struct InjectError: Error, CustomStringConvertible, Equatable {
    package let description: String

    package init(_ description: String) {
        self.description = description
    }
}
