/// The Unicode properties the BERT normaliser and pre-tokenizer ask about each scalar, with O(1) answers for the
/// Basic Multilingual Plane and binary search beyond it.
///
/// Built from the committed tables in `GeneratedUnicodeData`, read off HF's tokenizers scalar by scalar; Swift's
/// own `Unicode.Scalar.Properties` are not used, since they follow other Unicode versions than HF's crates.
/// Immutable once built; share one instance.
public final class UnicodeTables: Sendable {
    /// Property bits per scalar.
    struct Flags: OptionSet, Sendable {
        let rawValue: UInt8
        static let control = Flags(rawValue: 1 << 0)
        static let whitespace = Flags(rawValue: 1 << 1)
        static let punctuation = Flags(rawValue: 1 << 2)
        static let mark = Flags(rawValue: 1 << 3)
        static let chinese = Flags(rawValue: 1 << 4)
        static let lowercases = Flags(rawValue: 1 << 5)
        static let decomposes = Flags(rawValue: 1 << 6)
        static let combines = Flags(rawValue: 1 << 7)
    }

    /// Flags of every BMP scalar.
    private let bmp: [UInt8]
    /// Flags beyond the BMP, as sorted ranges.
    private let astralStarts: [UInt32]
    private let astralEnds: [UInt32]
    private let astralFlags: [UInt8]
    private let lowercaseMap: [UInt32: [Unicode.Scalar]]
    private let decompositionMap: [UInt32: [Unicode.Scalar]]
    private let combiningClasses: [UInt32: UInt8]

    /// Where the tables come from.
    public let unicodeVersion = GeneratedUnicodeData.unicodeVersion

    /// The tables shared by every tokenizer in the process (built on first use, about a millisecond).
    public static let shared = UnicodeTables()

    /// CJK ideograph blocks HF's BertNormalizer pads with spaces. 2B920 (not BERT's original 2B820) is where
    /// HF starts the block after Extension C.
    static let chineseRanges: [ClosedRange<UInt32>] = [
        0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F, 0x2B740...0x2B81F,
        0x2B920...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F,
    ]

    init() {
        var bmp = [UInt8](repeating: 0, count: 0x10000)
        var astral: [(UInt32, UInt32, UInt8)] = []
        func mark(_ range: ClosedRange<UInt32>, _ flags: Flags) {
            let low = range.lowerBound, high = range.upperBound
            if low <= 0xFFFF {
                for scalar in low...min(high, 0xFFFF) { bmp[Int(scalar)] |= flags.rawValue }
            }
            if high > 0xFFFF { astral.append((max(low, 0x10000), high, flags.rawValue)) }
        }
        for (text, flags) in [(GeneratedUnicodeData.control, Flags.control), (GeneratedUnicodeData.whitespace, .whitespace),
                              (GeneratedUnicodeData.punctuation, .punctuation), (GeneratedUnicodeData.mark, .mark)] {
            for range in Self.ranges(text) { mark(range, flags) }
        }
        for range in Self.chineseRanges { mark(range, .chinese) }
        let lowercase = Self.mappings(GeneratedUnicodeData.lowercase)
        let decomposition = Self.mappings(GeneratedUnicodeData.decomposition)
        for key in lowercase.keys { mark(key...key, .lowercases) }
        for key in decomposition.keys { mark(key...key, .decomposes) }
        var classes: [UInt32: UInt8] = [:]
        for token in GeneratedUnicodeData.combiningClass.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
            let parts = token.split(separator: ":")
            guard parts.count == 2, let range = Self.range(parts[0]), let value = UInt8(parts[1], radix: 16) else { continue }
            for scalar in range { classes[scalar] = value }
            mark(range, .combines)
        }
        // Merge the astral ranges into disjoint segments with combined flags: a sweep over start and end events,
        // counting how many open ranges set each bit.
        var events: [(position: UInt32, bits: UInt8, opens: Bool)] = []
        for (low, high, bits) in astral {
            events.append((low, bits, true))
            events.append((high + 1, bits, false))
        }
        events.sort { $0.position < $1.position }
        var open = [Int](repeating: 0, count: 8)
        var starts: [UInt32] = [], ends: [UInt32] = [], values: [UInt8] = []
        var current: UInt8 = 0
        var segmentStart: UInt32 = 0
        var index = 0
        while index < events.count {
            let position = events[index].position
            while index < events.count && events[index].position == position {
                for bit in 0..<8 where events[index].bits & (1 << bit) != 0 { open[bit] += events[index].opens ? 1 : -1 }
                index += 1
            }
            var flags: UInt8 = 0
            for bit in 0..<8 where open[bit] > 0 { flags |= 1 << bit }
            if flags != current {
                if current != 0 { starts.append(segmentStart); ends.append(position - 1); values.append(current) }
                current = flags
                segmentStart = position
            }
        }
        self.bmp = bmp
        self.astralStarts = starts
        self.astralEnds = ends
        self.astralFlags = values
        self.lowercaseMap = lowercase
        self.decompositionMap = decomposition
        self.combiningClasses = classes
    }

    @inline(__always)
    func flags(_ scalar: UInt32) -> Flags {
        if scalar <= 0xFFFF { return Flags(rawValue: bmp[Int(scalar)]) }
        var low = 0, high = astralStarts.count - 1
        while low <= high {
            let middle = (low + high) / 2
            if scalar < astralStarts[middle] { high = middle - 1 }
            else if scalar > astralEnds[middle] { low = middle + 1 }
            else { return Flags(rawValue: astralFlags[middle]) }
        }
        return []
    }

    /// The full lowercase of `scalar` (nil when it is its own lowercase).
    func lowercase(_ scalar: UInt32) -> [Unicode.Scalar]? { lowercaseMap[scalar] }

    /// The full canonical decomposition of `scalar`, Hangul syllables included (nil when it does not decompose).
    func decomposition(_ scalar: UInt32) -> [Unicode.Scalar]? {
        if scalar >= 0xAC00 && scalar <= 0xD7A3 {
            let index = scalar - 0xAC00
            let leading = Unicode.Scalar(0x1100 + index / 588)!
            let vowel = Unicode.Scalar(0x1161 + (index % 588) / 28)!
            let trailing = index % 28
            return trailing == 0 ? [leading, vowel] : [leading, vowel, Unicode.Scalar(0x11A7 + trailing)!]
        }
        return decompositionMap[scalar]
    }

    /// The canonical combining class of `scalar` (0 for most).
    func combiningClass(_ scalar: UInt32) -> UInt8 { combiningClasses[scalar] ?? 0 }

    private static func range(_ token: Substring) -> ClosedRange<UInt32>? {
        let parts = token.split(separator: "-")
        guard let low = UInt32(parts[0], radix: 16) else { return nil }
        guard parts.count == 2 else { return low...low }
        guard let high = UInt32(parts[1], radix: 16), high >= low else { return nil }
        return low...high
    }

    private static func ranges(_ text: String) -> [ClosedRange<UInt32>] {
        text.split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { range($0) }
    }

    private static func mappings(_ text: String) -> [UInt32: [Unicode.Scalar]] {
        var map: [UInt32: [Unicode.Scalar]] = [:]
        for token in text.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
            let parts = token.split(separator: ":")
            guard parts.count == 2, let key = UInt32(parts[0], radix: 16) else { continue }
            map[key] = parts[1].split(separator: ".").compactMap { UInt32($0, radix: 16).flatMap(Unicode.Scalar.init) }
        }
        return map
    }
}
