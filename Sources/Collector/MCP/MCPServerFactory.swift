import MCP

/// Makes an SDK `Server` that answers `tools/list` and `tools/call` with `MCPTools`: one per HTTP session, one for
/// stdio. Nothing else is offered (no resources, prompts or sampling); every tool is read-only.
package enum MCPServerFactory {
    package static func make(tools: MCPTools, version: String) async -> Server {
        let server = Server(
            name: "agentledger", version: version, title: "AgentLedger",
            instructions:
                "Read-only access to the LLM calls AgentLedger recorded: sessions, single calls, full-text search, "
                + "spend, statistics and budgets.",
            capabilities: .init(tools: .init(listChanged: false)))
        await server.withMethodHandler(ListTools.self) { _ in ListTools.Result(tools: MCPTools.tools) }
        await server.withMethodHandler(CallTool.self) { parameters in
            guard MCPTools.has(parameters.name) else {
                throw MCPError.invalidParams("Unknown tool: \(parameters.name)")
            }
            return await tools.call(parameters.name, arguments: parameters.arguments)
        }
        return server
    }
}
