import Foundation
import NIOCore

/// What admission needs from a request body: the model and the output-token cap. Read only when the collector
/// enforces budgets or limits; a body that is not a JSON object gives an empty model (the collector then reserves
/// nothing it cannot price) rather than an error.
struct CallSummary: Equatable {
    var model: String
    var maxTokens: UInt32?

    init(model: String, maxTokens: UInt32?) {
        self.model = model
        self.maxTokens = maxTokens
    }

    init(body: ByteBuffer) {
        let object = (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any] ?? [:]
        model = object["model"] as? String ?? ""
        // Chat completions (old and new name), Anthropic messages, and the Responses API.
        let cap = ["max_completion_tokens", "max_tokens", "max_output_tokens"].lazy.compactMap { object[$0] as? NSNumber }
            .first
        maxTokens = cap.flatMap { $0.int64Value > 0 ? UInt32(clamping: $0.int64Value) : nil }
    }
}
