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
    let bmp: ArrayView<UInt8>
    /// Flags beyond the BMP, as sorted disjoint ranges.
    let astralStarts: ArrayView<UInt32>
    let astralEnds: ArrayView<UInt32>
    let astralFlags: ArrayView<UInt8>
    /// Sorted scalars with a lowercase; the mapping of `lowerKeys[i]` is `lowerValues[lowerOffsets[i]..<lowerOffsets[i+1]]`.
    let lowerKeys: ArrayView<UInt32>
    let lowerOffsets: ArrayView<UInt32>
    let lowerValues: ArrayView<UInt32>
    /// Sorted scalars with a canonical decomposition, laid out like the lowercase mappings.
    let decompositionKeys: ArrayView<UInt32>
    let decompositionOffsets: ArrayView<UInt32>
    let decompositionValues: ArrayView<UInt32>
    /// Sorted scalars with a non-zero canonical combining class, and the classes.
    let combiningKeys: ArrayView<UInt32>
    let combiningValues: ArrayView<UInt8>

    /// Where the tables come from.
    public let unicodeVersion = GeneratedUnicodeData.unicodeVersion

    /// Tables built from the generated source (about 10 ms): for tools and tests. A model file carries them
    /// prebuilt (`TokenizerAssets`), so a cold start never pays this.
    public static let shared = UnicodeTables()

    init(
        bmp: ArrayView<UInt8>, astralStarts: ArrayView<UInt32>, astralEnds: ArrayView<UInt32>,
        astralFlags: ArrayView<UInt8>,
        lowerKeys: ArrayView<UInt32>, lowerOffsets: ArrayView<UInt32>, lowerValues: ArrayView<UInt32>,
        decompositionKeys: ArrayView<UInt32>, decompositionOffsets: ArrayView<UInt32>,
        decompositionValues: ArrayView<UInt32>,
        combiningKeys: ArrayView<UInt32>, combiningValues: ArrayView<UInt8>
    ) {
        self.bmp = bmp
        self.astralStarts = astralStarts
        self.astralEnds = astralEnds
        self.astralFlags = astralFlags
        self.lowerKeys = lowerKeys
        self.lowerOffsets = lowerOffsets
        self.lowerValues = lowerValues
        self.decompositionKeys = decompositionKeys
        self.decompositionOffsets = decompositionOffsets
        self.decompositionValues = decompositionValues
        self.combiningKeys = combiningKeys
        self.combiningValues = combiningValues
    }

    /// CJK ideograph blocks HF's BertNormalizer pads with spaces. 2B920 (not BERT's original 2B820) is where
    /// HF starts the block after Extension C.
    static let chineseRanges: [ClosedRange<UInt32>] = [
        0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F, 0x2B740...0x2B81F,
        0x2B920...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F,
    ]

    convenience init() {
        var bmp = [UInt8](repeating: 0, count: 0x10000)
        var astral: [(UInt32, UInt32, UInt8)] = []
        func mark(_ range: ClosedRange<UInt32>, _ flags: Flags) {
            let low = range.lowerBound, high = range.upperBound
            if low <= 0xFFFF {
                for scalar in low...min(high, 0xFFFF) { bmp[Int(scalar)] |= flags.rawValue }
            }
            if high > 0xFFFF { astral.append((max(low, 0x10000), high, flags.rawValue)) }
        }
        for (text, flags) in [
            (GeneratedUnicodeData.control, Flags.control), (GeneratedUnicodeData.whitespace, .whitespace),
            (GeneratedUnicodeData.punctuation, .punctuation), (GeneratedUnicodeData.mark, .mark),
        ] {
            for range in Self.ranges(text) { mark(range, flags) }
        }
        for range in Self.chineseRanges { mark(range, .chinese) }
        let lowercase = Self.mappings(GeneratedUnicodeData.lowercase)
        let decomposition = Self.mappings(GeneratedUnicodeData.decomposition)
        for key in lowercase.keys { mark(key...key, .lowercases) }
        for key in decomposition.keys { mark(key...key, .decomposes) }
        var classKeys: [UInt32] = [], classValues: [UInt8] = []
        for token in GeneratedUnicodeData.combiningClass.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
            let parts = token.split(separator: ":")
            guard parts.count == 2, let range = Self.range(parts[0]), let value = UInt8(parts[1], radix: 16) else {
                continue
            }
            for scalar in range {
                classKeys.append(scalar)
                classValues.append(value)
            }
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
                for bit in 0..<8 where events[index].bits & (1 << bit) != 0 {
                    open[bit] += events[index].opens ? 1 : -1
                }
                index += 1
            }
            var flags: UInt8 = 0
            for bit in 0..<8 where open[bit] > 0 { flags |= 1 << bit }
            if flags != current {
                if current != 0 {
                    starts.append(segmentStart)
                    ends.append(position - 1)
                    values.append(current)
                }
                current = flags
                segmentStart = position
            }
        }
        func flatten(_ map: [UInt32: [Unicode.Scalar]]) -> (ArrayView<UInt32>, ArrayView<UInt32>, ArrayView<UInt32>) {
            var keys: [UInt32] = [], offsets: [UInt32] = [0], values: [UInt32] = []
            for key in map.keys.sorted() {
                keys.append(key)
                values.append(contentsOf: map[key]!.map(\.value))
                offsets.append(UInt32(values.count))
            }
            return (ArrayView(keys), ArrayView(offsets), ArrayView(values))
        }
        let (lowerKeys, lowerOffsets, lowerValues) = flatten(lowercase)
        let (decompositionKeys, decompositionOffsets, decompositionValues) = flatten(decomposition)
        self.init(
            bmp: ArrayView(bmp), astralStarts: ArrayView(starts), astralEnds: ArrayView(ends),
            astralFlags: ArrayView(values),
            lowerKeys: lowerKeys, lowerOffsets: lowerOffsets, lowerValues: lowerValues,
            decompositionKeys: decompositionKeys, decompositionOffsets: decompositionOffsets,
            decompositionValues: decompositionValues, combiningKeys: ArrayView(classKeys),
            combiningValues: ArrayView(classValues))
    }

    @inline(__always)
    func flags(_ scalar: UInt32) -> Flags {
        if scalar <= 0xFFFF { return Flags(rawValue: bmp[Int(scalar)]) }
        if astralStarts.count == 0 { return [] }
        var low = 0, high = astralStarts.count - 1
        while low <= high {
            let middle = (low + high) / 2
            if scalar < astralStarts[middle] {
                high = middle - 1
            } else if scalar > astralEnds[middle] {
                low = middle + 1
            } else {
                return Flags(rawValue: astralFlags[middle])
            }
        }
        return []
    }

    /// Calls `body` with each scalar of the full lowercase of `scalar`; false when it is its own lowercase.
    @inline(__always)
    func forEachLowercase(_ scalar: UInt32, _ body: (UInt32) -> Void) -> Bool {
        guard let index = lowerKeys.search(scalar) else { return false }
        for offset in Int(lowerOffsets[index])..<Int(lowerOffsets[index + 1]) { body(lowerValues[offset]) }
        return true
    }

    /// Calls `body` with each scalar of the full canonical decomposition of `scalar` (Hangul syllables
    /// included); false when it does not decompose.
    @inline(__always)
    func forEachDecomposed(_ scalar: UInt32, _ body: (UInt32) -> Void) -> Bool {
        if scalar >= 0xAC00 && scalar <= 0xD7A3 {
            let index = scalar - 0xAC00
            body(0x1100 + index / 588)
            body(0x1161 + (index % 588) / 28)
            if index % 28 != 0 { body(0x11A7 + index % 28) }
            return true
        }
        guard let index = decompositionKeys.search(scalar) else { return false }
        for offset in Int(decompositionOffsets[index])..<Int(decompositionOffsets[index + 1]) {
            body(decompositionValues[offset])
        }
        return true
    }

    /// The canonical combining class of `scalar` (0 for most).
    func combiningClass(_ scalar: UInt32) -> UInt8 {
        combiningKeys.search(scalar).map { combiningValues[$0] } ?? 0
    }

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
