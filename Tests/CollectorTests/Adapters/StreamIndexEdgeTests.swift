import Testing

@testable import Collector

/// Stream assemblers given indices at the edge of `Int` (found by `scripts/fuzz`; the inputs are in
/// Fuzz/corpus/sse/regress-*.sse): the next index after `Int.max` used to overflow and trap the collector.
@Suite("Stream assemblers at the edge of the index range")
struct StreamIndexEdgeTests {
    @Test func anthropicBlockAfterIndexIntMaxDoesNotTrap() {
        let body = """
            data: {"type":"content_block_start","index":9223372036854775807,"content_block":{"type":"text","text":"a"}}

            data: {"type":"content_block_start","content_block":{"type":"text","text":"b"}}

            data: {"type":"content_block_delta","delta":{"type":"text_delta","text":"c"}}


            """
        let reading = AnthropicMessagesAdapter.readStream(SSEParser.events(in: Array(body.utf8)))
        #expect(reading.content?.contains("b") == true)
    }

    @Test func openAIChatToolCallAfterIndexIntMaxDoesNotTrap() {
        let body = """
            data: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":9223372036854775807,"id":"a","function":{"name":"x"}}]}}]}

            data: {"choices":[{"index":0,"delta":{"tool_calls":[{"id":"b","function":{"name":"y","arguments":"{}"}}]}}]}


            """
        let reading = OpenAIChatAdapter.readStream(SSEParser.events(in: Array(body.utf8)))
        #expect(reading.toolCalls.map(\.id) == ["b"])
        #expect(reading.toolCalls.first?.arguments == "{}")
    }

    @Test func negativeIndicesStillOrderTheBlocks() {
        let body = """
            data: {"type":"content_block_start","index":-3,"content_block":{"type":"text","text":"first "}}

            data: {"type":"content_block_start","content_block":{"type":"text","text":"second"}}


            """
        let reading = AnthropicMessagesAdapter.readStream(SSEParser.events(in: Array(body.utf8)))
        #expect(reading.content == "first second")
    }
}
