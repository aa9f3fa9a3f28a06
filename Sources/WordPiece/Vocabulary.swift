/// WordPiece vocabulary: token strings (as UTF-8 bytes, never `String`, whose equality would merge canonically
/// equivalent entries) to ids, in an open-addressing hash table over one byte buffer.
///
/// Lookups hash bytes in place and may prepend the continuation prefix (`##`) without building a new string.
public struct Vocabulary: Sendable {
    private let bytes: [UInt8]
    /// Per id: offset and length of its token in `bytes`.
    private let offsets: [Int32]
    private let lengths: [Int32]
    /// Slots hold id + 1 (0 is empty).
    private let slots: [Int32]
    private let mask: Int
    /// The FNV-1a state after hashing the continuation prefix.
    private let prefixState: UInt64
    /// Number of tokens.
    public var count: Int { offsets.count }

    static let fnvOffset: UInt64 = 0xCBF2_9CE4_8422_2325
    static let fnvPrime: UInt64 = 0x0000_0100_0000_01B3

    /// Builds the table from tokens in id order (one per line of `vocab.txt`). A repeated token keeps its first id.
    public init(tokens: [[UInt8]], continuationPrefix: [UInt8] = Array("##".utf8)) {
        var bytes: [UInt8] = []
        var offsets: [Int32] = [], lengths: [Int32] = []
        for token in tokens {
            offsets.append(Int32(bytes.count))
            lengths.append(Int32(token.count))
            bytes.append(contentsOf: token)
        }
        var size = 16
        while size < tokens.count * 2 { size <<= 1 }
        var slots = [Int32](repeating: 0, count: size)
        for (id, token) in tokens.enumerated() {
            var slot = Int(truncatingIfNeeded: Self.hash(token, from: Self.fnvOffset)) & (size - 1)
            var duplicate = false
            while slots[slot] != 0 {
                let other = Int(slots[slot] - 1)
                if tokens[other] == token { duplicate = true; break }
                slot = (slot + 1) & (size - 1)
            }
            if !duplicate { slots[slot] = Int32(id + 1) }
        }
        self.bytes = bytes
        self.offsets = offsets
        self.lengths = lengths
        self.slots = slots
        self.mask = size - 1
        self.prefixState = Self.hash(continuationPrefix, from: Self.fnvOffset)
        self.prefix = continuationPrefix
    }

    private let prefix: [UInt8]

    /// Parses `vocab.txt`: one token per line, ids in line order (a trailing CR is part of no token).
    public init(vocabularyText: [UInt8]) {
        var tokens: [[UInt8]] = []
        var start = 0
        for index in 0...vocabularyText.count {
            if index == vocabularyText.count || vocabularyText[index] == 0x0A {
                var end = index
                if end > start && vocabularyText[end - 1] == 0x0D { end -= 1 }
                if index < vocabularyText.count || end > start { tokens.append(Array(vocabularyText[start..<end])) }
                start = index + 1
            }
        }
        self.init(tokens: tokens)
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
    public func token(_ id: Int32) -> ArraySlice<UInt8> {
        bytes[Int(offsets[Int(id)])..<Int(offsets[Int(id)] + lengths[Int(id)])]
    }

    /// The id of `piece` (prefixed with `##` when `continuation`), or nil.
    @inline(__always)
    func id(of piece: UnsafeBufferPointer<UInt8>, continuation: Bool) -> Int32? {
        id(of: piece, continuation: continuation, hash: Self.hash(piece, from: continuation ? prefixState : Self.fnvOffset))
    }

    /// Like `id(of:continuation:)` with the FNV-1a hash of the (prefixed) piece already computed.
    @inline(__always)
    func id(of piece: UnsafeBufferPointer<UInt8>, continuation: Bool, hash: UInt64) -> Int32? {
        let extra = continuation ? prefix.count : 0
        var slot = Int(truncatingIfNeeded: hash) & mask
        while true {
            let entry = slots[slot]
            if entry == 0 { return nil }
            let id = Int(entry - 1)
            if Int(lengths[id]) == piece.count + extra && matches(id, piece, extra: extra) { return Int32(id) }
            slot = (slot + 1) & mask
        }
    }

    @inline(__always)
    private func matches(_ id: Int, _ piece: UnsafeBufferPointer<UInt8>, extra: Int) -> Bool {
        let offset = Int(offsets[id])
        for index in 0..<extra where bytes[offset + index] != prefix[index] { return false }
        for index in 0..<piece.count where bytes[offset + extra + index] != piece[index] { return false }
        return true
    }

    /// The FNV-1a state after the continuation prefix, to extend with a piece's bytes.
    var continuationHashState: UInt64 { prefixState }
}
