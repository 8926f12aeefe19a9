import LedgerTestSupport

@testable import Collector

/// A generated agent conversation as a proxy sees it: every call resends the whole history (system message, then
/// user and assistant turns of about 500 bytes) plus one new user message, with tools defined; the call's output is
/// the next assistant message. Seeded, so every run stores the same bytes.
struct Conversation {
    let session: String
    let turns: Int
    private var random: SplitMix64

    init(session: String = "conversation", turns: Int = 50, seed: UInt64 = 42) {
        self.session = session
        self.turns = turns
        random = SplitMix64(seed: seed)
    }

    /// The calls, oldest first, one per turn.
    mutating func calls() -> [CallRecord] {
        var history: [JSONValue] = [message("system", "You are a support agent for an online shop. " + prose(bytes: 300))]
        var calls: [CallRecord] = []
        for turn in 1...turns {
            history.append(message("user", "Turn \(turn): " + prose(bytes: 500)))
            var call = CallRecord(actionID: "\(session)-\(turn)", timestampMicros: Int64(turn) * 1_000_000)
            call.sessionID = session
            call.modelID = "gpt-4o"
            call.provider = "openai"
            call.agentName = "support"
            call.messages = history
            call.tools = Self.tools
            call.content = "Answer \(turn): " + prose(bytes: 500)
            call.tokensIn = 120 * turn
            call.tokensOut = 120
            call.costUSD = 0.001
            call.latencyMS = 800
            call.statusCode = 200
            calls.append(call)
            history.append(message("assistant", call.content ?? ""))
        }
        return calls
    }

    private func message(_ role: String, _ content: String) -> JSONValue {
        .object(["role": .string(role), "content": .string(content)])
    }

    /// Words drawn from a small vocabulary, so the text compresses about as well as English does.
    private mutating func prose(bytes: Int) -> String {
        var text = ""
        while text.utf8.count < bytes {
            text += Self.vocabulary[Int(random.next() % UInt64(Self.vocabulary.count))]
            text += random.next() % 12 == 0 ? ". " : " "
        }
        return text
    }

    private static let vocabulary = """
        order refund delivery parcel address customer account payment invoice card shipping return warehouse \
        product size colour price discount voucher week day tomorrow yesterday morning evening status tracking \
        number carrier courier damaged missing item box label email phone support ticket agent manager policy \
        days within receipt bank transfer pending approved declined confirm check update change cancel request \
        issue problem solution sorry thanks please could would should will can the a an of to for with on in at \
        from by about your my our their this that these those and or but because so if when then after before \
        again still already only also just very quite really exactly probably certainly perhaps maybe
        """.split(whereSeparator: \.isWhitespace).map(String.init)

    private static let tools: JSONValue = .array(
        ["lookup_order", "issue_refund", "track_parcel"].map { name in
            .object([
                "type": .string("function"),
                "function": .object([
                    "name": .string(name), "description": .string("Use \(name) when the customer asks about it."),
                    "parameters": .object([
                        "type": .string("object"),
                        "properties": .object(["order_id": .object(["type": .string("string")])]),
                        "required": .array([.string("order_id")]),
                    ]),
                ]),
            ])
        })
}
