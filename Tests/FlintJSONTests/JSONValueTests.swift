import FlintJSON
import Testing

@Suite struct JSONValueTests {
    @Test func parsesEveryKindOfValue() throws {
        let value = try JSONValue(parsing: #" {"a": [1, -2.5e3, true, false, null], "b": {"c": "d"}, "e": ""} "#)
        #expect(
            value
                == .object([
                    "a": .array([.number(1), .number(-2500), .bool(true), .bool(false), .null]),
                    "b": .object(["c": .string("d")]),
                    "e": .string(""),
                ]))
        #expect(value["a"]?.array?.first?.integer == 1)
        #expect(value["a"]?.array?[1].integer == -2500)
        #expect(value["b"]?["c"]?.string == "d")
        #expect(value["missing"] == nil)
    }

    @Test func decodesEscapesAndSurrogatePairs() throws {
        let value = try JSONValue(parsing: #""q\" b\\ s\/ \b\f\n\r\t \u00e9 \ud83d\ude80 é""#)
        #expect(value.string == "q\" b\\ s/ \u{8}\u{c}\n\r\t é 🚀 é")
    }

    @Test func keepsCanonicallyEquivalentStringsApartAsBytes() throws {
        // "é" precomposed and decomposed are different JSON strings; the parser must not merge them.
        let value = try JSONValue(parsing: "[\"\u{e9}\", \"e\u{301}\"]")
        let strings = value.array?.compactMap(\.string) ?? []
        #expect(strings.map { Array($0.utf8) } == [[0xC3, 0xA9], [0x65, 0xCC, 0x81]])
    }

    @Test(arguments: [
        ("", "unexpected end of input"),
        ("[1,]", "unexpected character ']'"),
        ("{\"a\" 1}", "expected ':' after object key"),
        ("{\"a\":1,}", "expected a string key in object"),
        ("01", "leading zero in number"),
        ("1.", "expected a digit after '.'"),
        ("1e", "expected a digit in exponent"),
        ("\"abc", "unterminated string"),
        ("\"\\x\"", "invalid escape '\\x'"),
        ("\"\\ud800\"", "unpaired surrogate \\ud800"),
        ("\"\\udc00\"", "unpaired surrogate \\udc00"),
        ("\"a\u{1}b\"", "raw control character 0x1 in string"),
        ("[1] 2", "unexpected data after the JSON value"),
        ("tru", "invalid literal"),
        ("// c\n1", "unexpected character '/'"),
        ("1e999", "number out of range"),
    ])
    func rejectsInvalidDocuments(input: String, reason: String) {
        #expect(throws: JSONError.self) { try JSONValue(parsing: input) }
        do {
            _ = try JSONValue(parsing: input)
        } catch {
            #expect(error.reason == reason)
        }
    }

    @Test func rejectsInvalidUTF8() {
        #expect(throws: JSONError.self) { try JSONValue(parsing: [0x22, 0xFF, 0x22]) }
        #expect(throws: JSONError.self) { try JSONValue(parsing: [0x22, 0xC3, 0x22]) }
    }

    @Test func refusesHostileNestingWithoutCrashing() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONError.self) { try JSONValue(parsing: deep) }
        let fine = String(repeating: "[", count: 500) + String(repeating: "]", count: 500)
        #expect((try? JSONValue(parsing: fine)) != nil)
    }

    @Test func writesCompactSortedJSONThatParsesBack() throws {
        let value = JSONValue.object([
            "z": .array([.number(1), .number(0.1), .number(-3e-7), .null]),
            "a": .string("line\nbreak \"q\" \u{1} ü"),
            "m": .bool(true),
        ])
        let text = String(decoding: value.jsonBytes, as: UTF8.self)
        #expect(text == #"{"a":"line\nbreak \"q\" \u0001 ü","m":true,"z":[1,0.1,-3e-07,null]}"#)
        #expect(try JSONValue(parsing: value.jsonBytes) == value)
    }

    @Test func nonFiniteNumbersBecomeNull() {
        var out: [UInt8] = []
        JSONText.appendNumber(.nan, to: &out)
        #expect(out == Array("null".utf8))
    }
}
