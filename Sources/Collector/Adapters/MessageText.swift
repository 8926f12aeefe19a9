/// Text out of the content shapes providers use: a plain string, or a list of parts of which the text ones count.
enum MessageText {
    /// The text of `content`, its text parts joined with `separator`; nil when it holds no text at all.
    static func text(of content: JSONValue?, separator: String) -> String? {
        switch content {
        case .string(let string):
            return string
        case .array(let parts):
            let texts = parts.compactMap(partText)
            return texts.isEmpty ? nil : texts.joined(separator: separator)
        default:
            return nil
        }
    }

    private static func partText(_ part: JSONValue) -> String? {
        if let string = part.stringValue { return string }
        switch part["type"]?.stringValue {
        case nil, "text", "input_text", "output_text": return part["text"]?.stringValue
        default: return nil
        }
    }
}
