/// WordPiece vocabulary: token strings (as UTF-8 bytes, never `String`, whose equality would merge canonically
/// equivalent entries) to ids, in an open-addressing hash table over one byte buffer.
///
/// Lookups hash bytes in place and may prepend the continuation prefix (`##`) without building a new string. The
/// table can live in memory this type built, or be read in place from a mapped model file (see
/// `TokenizerAssets`).
public struct Vocabulary: Sendable {
    /// All tokens' bytes, back to back.
    let bytes: ArrayView<UInt8>
    /// Token i is `bytes[offsets[i]..<offsets[i + 1]]`.
    let offsets: ArrayView<UInt32>
    /// Open-addressing slots holding id + 1 (0 is empty); a power-of-two count.
    let slots: ArrayView<UInt32>
    let prefix: [UInt8]
    private let prefixState: UInt64

    /// Number of tokens.
    public var count: Int { offsets.count - 1 }

    static let fnvOffset: UInt64 = 0xCBF2_9CE4_8422_2325
    static let fnvPrime: UInt64 = 0x0000_0100_0000_01B3

    /// Builds the table from tokens in id order (one per line of `vocab.txt`). A repeated token keeps its first id.
    public init(tokens: [[UInt8]], continuationPrefix: [UInt8] = Array("##".utf8)) {
        var bytes: [UInt8] = []
        var offsets: [UInt32] = [0]
        for token in tokens {
            bytes.append(contentsOf: token)
            offsets.append(UInt32(bytes.count))
        }
        var size = 16
        while size < tokens.count * 2 { size <<= 1 }
        var slots = [UInt32](repeating: 0, count: size)
        for (id, token) in tokens.enumerated() {
            var slot = Int(truncatingIfNeeded: Self.hash(token, from: Self.fnvOffset)) & (size - 1)
            var duplicate = false
            while slots[slot] != 0 {
                if tokens[Int(slots[slot] - 1)] == token {
                    duplicate = true
                    break
                }
                slot = (slot + 1) & (size - 1)
            }
            if !duplicate { slots[slot] = UInt32(id + 1) }
        }
        self.init(
            bytes: ArrayView(bytes), offsets: ArrayView(offsets), slots: ArrayView(slots), prefix: continuationPrefix)
    }

    /// Views over tables built earlier (by `init(tokens:)`, then stored); the caller has checked their shapes.
    init(bytes: ArrayView<UInt8>, offsets: ArrayView<UInt32>, slots: ArrayView<UInt32>, prefix: [UInt8]) {
        self.bytes = bytes
        self.offsets = offsets
        self.slots = slots
        self.prefix = prefix
        self.prefixState = Self.hash(prefix, from: Self.fnvOffset)
    }

    /// Parses `vocab.txt`: one token per line, ids in line order (a trailing CR is part of no token).
    public init(vocabularyText: [UInt8]) {
        self.init(tokens: Self.lines(vocabularyText))
    }

    /// The lines of a `vocab.txt`.
    public static func lines(_ text: [UInt8]) -> [[UInt8]] {
        var tokens: [[UInt8]] = []
        var start = 0
        for index in 0...text.count where index == text.count || text[index] == 0x0A {
            var end = index
            if end > start && text[end - 1] == 0x0D { end -= 1 }
            if index < text.count || end > start { tokens.append(Array(text[start..<end])) }
            start = index + 1
        }
        return tokens
    }

    @inline(__always)
    static func hash<C: Collection<UInt8>>(_ bytes: C, from state: UInt64) -> UInt64 {
        var state = state
        for byte in bytes { state = (state ^ UInt64(byte)) &* fnvPrime }
        return state
    }

    /// The id of `token`, or nil.
    public func id(of token: [UInt8]) -> Int32? {
        token.withUnsafeBufferPointer { id(of: UnsafeBufferPointer(rebasing: $0[...]), continuation: false) }
    }

    /// The token of `id`, as bytes.
    public func token(_ id: Int32) -> [UInt8] {
        (Int(offsets[Int(id)])..<Int(offsets[Int(id) + 1])).map { bytes[$0] }
    }

    /// The id of `piece` (prefixed with `##` when `continuation`), or nil.
    @inline(__always)
    func id(of piece: UnsafeBufferPointer<UInt8>, continuation: Bool) -> Int32? {
        id(
            of: piece, continuation: continuation,
            hash: Self.hash(piece, from: continuation ? prefixState : Self.fnvOffset))
    }

    /// Like `id(of:continuation:)` with the FNV-1a hash of the (prefixed) piece already computed.
    @inline(__always)
    func id(of piece: UnsafeBufferPointer<UInt8>, continuation: Bool, hash: UInt64) -> Int32? {
        let extra = continuation ? prefix.count : 0
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while true {
            let entry = slots[slot]
            if entry == 0 { return nil }
            let id = Int(entry - 1)
            let start = Int(offsets[id])
            if Int(offsets[id + 1]) - start == piece.count + extra && matches(start, piece, extra: extra) {
                return Int32(id)
            }
            slot = (slot + 1) & mask
        }
    }

    @inline(__always)
    private func matches(_ start: Int, _ piece: UnsafeBufferPointer<UInt8>, extra: Int) -> Bool {
        for index in 0..<extra where bytes[start + index] != prefix[index] { return false }
        for index in 0..<piece.count where bytes[start + extra + index] != piece[index] { return false }
        return true
    }

    /// The FNV-1a state after the continuation prefix, to extend with a piece's bytes.
    var continuationHashState: UInt64 { prefixState }
}
