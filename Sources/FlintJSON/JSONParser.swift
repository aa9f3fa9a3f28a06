/// A strict RFC 8259 parser from UTF-8 bytes to ``JSONValue``.
///
/// Rejects trailing commas, comments, leading zeros, invalid escapes, unpaired surrogates, raw control characters
/// in strings, invalid UTF-8 and anything after the value. Nesting is limited so a hostile document cannot exhaust
/// the stack.
struct JSONParser {
    /// Deeper documents are refused: each level costs a stack frame.
    static let maximumDepth = 512

    private let bytes: UnsafeRawBufferPointer
    private var position = 0
    private var scratch: [UInt8] = []

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    mutating func parseDocument() throws(JSONError) -> JSONValue {
        skipWhitespace()
        let value = try parseValue(depth: 0)
        skipWhitespace()
        guard position == bytes.count else { throw JSONError("unexpected data after the JSON value", at: position) }
        return value
    }

    private mutating func parseValue(depth: Int) throws(JSONError) -> JSONValue {
        guard position < bytes.count else { throw JSONError("unexpected end of input", at: position) }
        switch bytes[position] {
        case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
        case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"):
            try expectLiteral("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try expectLiteral("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try expectLiteral("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        case let byte: throw JSONError("unexpected character '\(Self.show(byte))'", at: position)
        }
    }

    private mutating func parseObject(depth: Int) throws(JSONError) -> JSONValue {
        guard depth <= Self.maximumDepth else {
            throw JSONError("nested deeper than \(Self.maximumDepth) levels", at: position)
        }
        position += 1
        var members: [String: JSONValue] = [:]
        skipWhitespace()
        if peek() == UInt8(ascii: "}") {
            position += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard peek() == UInt8(ascii: "\"") else { throw JSONError("expected a string key in object", at: position) }
            let key = try parseString()
            skipWhitespace()
            guard peek() == UInt8(ascii: ":") else { throw JSONError("expected ':' after object key", at: position) }
            position += 1
            skipWhitespace()
            members[key] = try parseValue(depth: depth)
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "}"):
                position += 1
                return .object(members)
            default: throw JSONError("expected ',' or '}' in object", at: position)
            }
        }
    }

    private mutating func parseArray(depth: Int) throws(JSONError) -> JSONValue {
        guard depth <= Self.maximumDepth else {
            throw JSONError("nested deeper than \(Self.maximumDepth) levels", at: position)
        }
        position += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if peek() == UInt8(ascii: "]") {
            position += 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try parseValue(depth: depth))
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "]"):
                position += 1
                return .array(elements)
            default: throw JSONError("expected ',' or ']' in array", at: position)
            }
        }
    }

    private mutating func parseString() throws(JSONError) -> String {
        let start = position
        position += 1
        // Fast path: no escapes, so the bytes between the quotes are the string.
        var end = position
        while end < bytes.count, bytes[end] != UInt8(ascii: "\""), bytes[end] != UInt8(ascii: "\\"), bytes[end] >= 0x20
        {
            end += 1
        }
        if end < bytes.count, bytes[end] == UInt8(ascii: "\"") {
            let text = try Self.validated(UnsafeRawBufferPointer(rebasing: bytes[position..<end]), at: start)
            position = end + 1
            return text
        }
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[position..<end]))
        position = end
        while true {
            guard position < bytes.count else { throw JSONError("unterminated string", at: start) }
            let byte = bytes[position]
            switch byte {
            case UInt8(ascii: "\""):
                position += 1
                guard let text = String(validating: scratch, as: UTF8.self) else {
                    throw JSONError("invalid UTF-8 in string", at: start)
                }
                return text
            case UInt8(ascii: "\\"):
                try parseEscape()
            case 0..<0x20:
                throw JSONError("raw control character 0x\(String(byte, radix: 16)) in string", at: position)
            default:
                scratch.append(byte)
                position += 1
            }
        }
    }

    private mutating func parseEscape() throws(JSONError) {
        let escapeStart = position
        position += 1
        guard position < bytes.count else { throw JSONError("unterminated escape", at: escapeStart) }
        let code = bytes[position]
        position += 1
        switch code {
        case UInt8(ascii: "\""): scratch.append(0x22)
        case UInt8(ascii: "\\"): scratch.append(0x5C)
        case UInt8(ascii: "/"): scratch.append(0x2F)
        case UInt8(ascii: "b"): scratch.append(0x08)
        case UInt8(ascii: "f"): scratch.append(0x0C)
        case UInt8(ascii: "n"): scratch.append(0x0A)
        case UInt8(ascii: "r"): scratch.append(0x0D)
        case UInt8(ascii: "t"): scratch.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = try parseHex4()
            if scalar >= 0xD800 && scalar < 0xDC00 {
                guard position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"),
                    bytes[position + 1] == UInt8(ascii: "u")
                else {
                    throw JSONError("unpaired surrogate \\u\(String(scalar, radix: 16))", at: escapeStart)
                }
                position += 2
                let low = try parseHex4()
                guard low >= 0xDC00 && low < 0xE000 else {
                    throw JSONError("unpaired surrogate \\u\(String(scalar, radix: 16))", at: escapeStart)
                }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if scalar >= 0xDC00 && scalar < 0xE000 {
                throw JSONError("unpaired surrogate \\u\(String(scalar, radix: 16))", at: escapeStart)
            }
            scratch.append(contentsOf: String(Unicode.Scalar(scalar)!).utf8)
        default:
            throw JSONError("invalid escape '\\\(Self.show(code))'", at: escapeStart)
        }
    }

    private mutating func parseHex4() throws(JSONError) -> UInt32 {
        guard position + 4 <= bytes.count else { throw JSONError("truncated \\u escape", at: position) }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[position]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw JSONError("invalid hex digit in \\u escape", at: position)
            }
            value = value << 4 | UInt32(digit)
            position += 1
        }
        return value
    }

    private mutating func parseNumber() throws(JSONError) -> Double {
        let start = position
        if peek() == UInt8(ascii: "-") { position += 1 }
        guard let first = peek(), first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9") else {
            throw JSONError("expected a digit", at: position)
        }
        if first == UInt8(ascii: "0") {
            position += 1
            if let next = peek(), next >= UInt8(ascii: "0") && next <= UInt8(ascii: "9") {
                throw JSONError("leading zero in number", at: start)
            }
        } else {
            skipDigits()
        }
        if peek() == UInt8(ascii: ".") {
            position += 1
            guard skipDigits() > 0 else { throw JSONError("expected a digit after '.'", at: position) }
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            position += 1
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { position += 1 }
            guard skipDigits() > 0 else { throw JSONError("expected a digit in exponent", at: position) }
        }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
        guard let value = Double(text), value.isFinite else { throw JSONError("number out of range", at: start) }
        return value
    }

    @discardableResult
    private mutating func skipDigits() -> Int {
        let start = position
        while let byte = peek(), byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") { position += 1 }
        return position - start
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(JSONError) {
        let count = literal.utf8CodeUnitCount
        guard position + count <= bytes.count,
            memcmpEqual(UnsafeRawBufferPointer(rebasing: bytes[position..<position + count]), literal)
        else {
            throw JSONError("invalid literal", at: position)
        }
        position += count
    }

    private func memcmpEqual(_ a: UnsafeRawBufferPointer, _ literal: StaticString) -> Bool {
        let b = UnsafeRawBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount)
        return a.elementsEqual(b)
    }

    private func peek() -> UInt8? { position < bytes.count ? bytes[position] : nil }

    private mutating func skipWhitespace() {
        while let byte = peek(), byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { position += 1 }
    }

    private static func validated(_ raw: UnsafeRawBufferPointer, at offset: Int) throws(JSONError) -> String {
        guard let text = String(validating: raw, as: UTF8.self) else {
            throw JSONError("invalid UTF-8 in string", at: offset)
        }
        return text
    }

    private static func show(_ byte: UInt8) -> String {
        byte >= 0x20 && byte < 0x7F ? String(UnicodeScalar(byte)) : "0x" + String(byte, radix: 16)
    }
}

extension JSONValue {
    /// Parses one JSON document from UTF-8 bytes; throws ``JSONError`` with the offending byte offset.
    public init(parsing bytes: [UInt8]) throws(JSONError) {
        let result = bytes.withUnsafeBytes { raw in
            var parser = JSONParser(raw)
            return Result { () throws(JSONError) in try parser.parseDocument() }
        }
        self = try result.get()
    }

    /// Parses one JSON document from a string.
    public init(parsing text: String) throws(JSONError) {
        try self.init(parsing: Array(text.utf8))
    }
}
