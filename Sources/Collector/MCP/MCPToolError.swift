/// A tool call that cannot be answered: bad or missing arguments, an unknown id, a store failure. It becomes a tool
/// result with `isError: true` and this message, never a protocol error (docs/reference.md, "MCP").
package struct MCPToolError: Error, CustomStringConvertible, Equatable {
    package var message: String

    package init(_ message: String) { self.message = message }

    package var description: String { message }
}
