/// Hex text to bytes and back, for golden vectors written as `00 00 00 0a  # comment` lines.
enum Hex {
    /// Bytes of hex text: whitespace-separated two-digit tokens; `#` starts a comment to the end of the line.
    static func bytes(_ text: some StringProtocol) -> [UInt8] {
        var result: [UInt8] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let code = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            for token in code.split(whereSeparator: \.isWhitespace) {
                guard token.count == 2, let byte = UInt8(token, radix: 16) else {
                    preconditionFailure("not a hex byte: \(token) in line \(line)")
                }
                result.append(byte)
            }
        }
        return result
    }

    /// `00 01 ff`: lowercase, space-separated.
    static func string(_ bytes: some Sequence<UInt8>) -> String {
        bytes.map { byte in
            let digits = String(byte, radix: 16)
            return digits.count == 1 ? "0" + digits : digits
        }.joined(separator: " ")
    }
}
