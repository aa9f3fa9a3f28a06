/// Standard base64 (RFC 4648 §4, `+` and `/`, padded), without Foundation: API Gateway and Function URL bodies,
/// client contexts and streaming error trailers all use it.
///
/// Decoding is strict (no whitespace, no missing padding, zero trailing bits) so that a malformed body is reported
/// rather than half-read; it does not accept the URL-safe alphabet.
public enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let values: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, byte) in alphabet.enumerated() { table[Int(byte)] = UInt8(index) }
        return table
    }()

    /// Appends the base64 text of `bytes` to `out`.
    public static func encode<Bytes: Collection<UInt8>>(_ bytes: Bytes, into out: inout [UInt8]) {
        out.reserveCapacity(out.count + (bytes.count + 2) / 3 * 4)
        var iterator = bytes.makeIterator()
        while let first = iterator.next() {
            let second = iterator.next(), third = iterator.next()
            let word = UInt32(first) << 16 | UInt32(second ?? 0) << 8 | UInt32(third ?? 0)
            out.append(alphabet[Int(word >> 18 & 63)])
            out.append(alphabet[Int(word >> 12 & 63)])
            out.append(second == nil ? UInt8(ascii: "=") : alphabet[Int(word >> 6 & 63)])
            out.append(third == nil ? UInt8(ascii: "=") : alphabet[Int(word & 63)])
        }
    }

    /// The base64 text of `bytes`.
    public static func encode<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> String {
        var out: [UInt8] = []
        encode(bytes, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// The bytes `text` encodes, or nil when it is not valid padded base64.
    public static func decode<Text: Collection<UInt8>>(_ text: Text) -> [UInt8]? {
        let input = Array(text)
        guard input.count % 4 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(input.count / 4 * 3)
        var index = 0
        while index < input.count {
            let isLast = index + 4 == input.count
            var word: UInt32 = 0, padding = 0
            for offset in 0..<4 {
                let byte = input[index + offset]
                if byte == UInt8(ascii: "=") {
                    // Padding only at the end of the last quantum, never in its first two places.
                    guard isLast, offset >= 2 else { return nil }
                    padding += 1
                    word <<= 6
                    continue
                }
                let value = values[Int(byte)]
                guard value != 0xFF, padding == 0 else { return nil }
                word = word << 6 | UInt32(value)
            }
            let decoded = [UInt8(word >> 16 & 0xFF), UInt8(word >> 8 & 0xFF), UInt8(word & 0xFF)]
            // Canonical only: the bits under the padding must be zero.
            if padding == 1, decoded[2] != 0 { return nil }
            if padding == 2, decoded[1] != 0 || decoded[2] != 0 { return nil }
            out.append(contentsOf: decoded[0..<(3 - padding)])
            index += 4
        }
        return out
    }

    /// The bytes `text` encodes, or nil when it is not valid padded base64.
    public static func decode(_ text: String) -> [UInt8]? { decode(text.utf8) }
}
