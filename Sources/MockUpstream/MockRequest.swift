import Foundation

/// What the mock reads from a request body (chat `messages`, Anthropic `system`, Responses `input` and
/// `instructions`): enough to build a deterministic answer.
struct MockRequest: Sendable {
    let model: String
    let stream: Bool
    /// OpenAI `stream_options.include_usage`: the stream ends with a usage chunk.
    let includeUsage: Bool
    let lastUserText: String
    /// Characters of all message text (system prompt included), the basis of the prompt token count.
    let promptCharacters: Int
    /// Hex digest of the request's meaning (not its bytes), so a proxy that re-encodes the body gets the same ids.
    let digest: String

    /// Nil when the body is not a JSON object.
    init?(body: [UInt8], provider: MockProvider, scenario: MockScenario) {
        guard let root = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] else {
            return nil
        }
        model = (root["model"] as? String) ?? provider.defaultModel
        stream = (root["stream"] as? Bool) ?? false
        includeUsage = ((root["stream_options"] as? [String: Any])?["include_usage"] as? Bool) ?? false

        var texts: [String] = []
        if let system = root["system"] {
            texts.append(contentsOf: Self.texts(in: system))
        }
        var lastUser = ""
        for case let message as [String: Any] in (root["messages"] as? [Any]) ?? [] {
            let messageTexts = message["content"].map(Self.texts(in:)) ?? []
            texts.append(contentsOf: messageTexts)
            if message["role"] as? String == "user" {
                lastUser = messageTexts.joined(separator: " ")
            }
        }
        if let instructions = root["instructions"] {
            texts.append(contentsOf: Self.texts(in: instructions))
        }
        if let input = root["input"] as? String {
            texts.append(input)
            lastUser = input
        }
        for case let item as [String: Any] in (root["input"] as? [Any]) ?? [] {
            let itemTexts = (item["content"] ?? item["output"]).map(Self.texts(in:)) ?? []
            texts.append(contentsOf: itemTexts)
            if item["role"] as? String == "user" {
                lastUser = itemTexts.joined(separator: " ")
            }
        }
        lastUserText = lastUser
        promptCharacters = texts.reduce(0) { $0 + $1.count }
        let meaning = [provider.rawValue, model, scenario.rawValue] + texts
        digest = Self.hexDigest(meaning.joined(separator: "\u{1F}"))
    }

    /// Tokens the mock charges for `characters` characters: one per four, at least one.
    static func tokens(forCharacters characters: Int) -> Int {
        max(1, (characters + 3) / 4)
    }

    /// 16 hex digits of FNV-1a over the UTF-8 bytes: stable across runs, unlike `Hasher`.
    static func hexDigest(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// Text of a message content: a string, or the `text` (and nested `content`) of an array of parts.
    private static func texts(in content: Any) -> [String] {
        if let text = content as? String {
            return [text]
        }
        guard let parts = content as? [Any] else { return [] }
        var texts: [String] = []
        for case let part as [String: Any] in parts {
            if let text = part["text"] as? String {
                texts.append(text)
            }
            if let nested = part["content"] {
                texts.append(contentsOf: Self.texts(in: nested))
            }
        }
        return texts
    }
}
