/// The tokenizer's tables in the binary form a model file stores, so a cold start reads them in place instead of
/// parsing `vocab.txt` and the Unicode data (about 17 ms).
///
/// Layout, little-endian, every array starting at a multiple of 4 bytes: the magic `WPT1`, nine `UInt32` counts
/// (tokens, hash slots, token bytes, astral ranges, lowercase keys and values, decomposition keys and values,
/// combining-class keys), then the arrays in the order of `UnicodeTables` and `Vocabulary`'s fields. `load`
/// checks every count, offset and value against the buffer, so a corrupt section is an error, never a bad read.
public enum TokenizerAssets {
    static let magic: [UInt8] = Array("WPT1".utf8)
    static let bmpCount = 0x10000

    /// The assets of `vocabulary` and `tables`.
    public static func serialize(vocabulary: Vocabulary, tables: UnicodeTables) -> [UInt8] {
        var out = magic
        func u32(_ value: Int) { withUnsafeBytes(of: UInt32(value).littleEndian) { out.append(contentsOf: $0) } }
        func pad() { while out.count % 4 != 0 { out.append(0) } }
        func array<T: BitwiseCopyable>(_ view: ArrayView<T>) {
            for index in 0..<view.count { withUnsafeBytes(of: view[index]) { out.append(contentsOf: $0) } }
            pad()
        }
        for count in [
            vocabulary.count, vocabulary.slots.count, vocabulary.bytes.count, tables.astralStarts.count,
            tables.lowerKeys.count, tables.lowerValues.count, tables.decompositionKeys.count,
            tables.decompositionValues.count, tables.combiningKeys.count,
        ] { u32(count) }
        array(vocabulary.offsets)
        array(vocabulary.slots)
        array(vocabulary.bytes)
        array(tables.bmp)
        array(tables.astralStarts)
        array(tables.astralEnds)
        array(tables.astralFlags)
        array(tables.lowerKeys)
        array(tables.lowerOffsets)
        array(tables.lowerValues)
        array(tables.decompositionKeys)
        array(tables.decompositionOffsets)
        array(tables.decompositionValues)
        array(tables.combiningKeys)
        array(tables.combiningValues)
        return out
    }

    /// Views over serialized assets in `bytes` (which `owner` keeps alive), after checking them.
    public static func load(
        _ bytes: UnsafeRawBufferPointer, owner: AnyObject?, continuationPrefix: [UInt8] = Array("##".utf8)
    )
        throws(TokenizerError) -> (Vocabulary, UnicodeTables)
    {
        guard let base = bytes.baseAddress, Int(bitPattern: base) % 4 == 0 else {
            throw TokenizerError(message: "tokenizer section is empty or misaligned")
        }
        guard bytes.count >= 40, bytes.starts(with: magic) else {
            throw TokenizerError(message: "tokenizer section: bad magic")
        }
        let counts = (0..<9).map {
            Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4 + $0 * 4, as: UInt32.self)))
        }
        let (
            tokens, slotCount, blobLength, astral, lowerKeys, lowerValues, decompositionKeys, decompositionValues,
            combining
        ) =
            (counts[0], counts[1], counts[2], counts[3], counts[4], counts[5], counts[6], counts[7], counts[8])
        var cursor = 40
        func take<T: BitwiseCopyable>(_ count: Int, _ field: String) throws(TokenizerError) -> ArrayView<T> {
            let size = count * MemoryLayout<T>.stride
            guard count >= 0, count < 1 << 26, size <= bytes.count - cursor else {
                throw TokenizerError(
                    message: "tokenizer section: \(field) (\(count) entries) runs past the section's end")
            }
            let view = ArrayView<T>(base: (base + cursor).assumingMemoryBound(to: T.self), count: count, owner: owner)
            cursor += (size + 3) & ~3
            return view
        }
        let offsets: ArrayView<UInt32> = try take(tokens + 1, "token offsets")
        let slots: ArrayView<UInt32> = try take(slotCount, "hash slots")
        let blob: ArrayView<UInt8> = try take(blobLength, "token bytes")
        let bmp: ArrayView<UInt8> = try take(bmpCount, "BMP flags")
        let starts: ArrayView<UInt32> = try take(astral, "astral starts")
        let ends: ArrayView<UInt32> = try take(astral, "astral ends")
        let flags: ArrayView<UInt8> = try take(astral, "astral flags")
        let lowerKeyView: ArrayView<UInt32> = try take(lowerKeys, "lowercase keys")
        let lowerOffsets: ArrayView<UInt32> = try take(lowerKeys + 1, "lowercase offsets")
        let lowerValueView: ArrayView<UInt32> = try take(lowerValues, "lowercase values")
        let decompositionKeyView: ArrayView<UInt32> = try take(decompositionKeys, "decomposition keys")
        let decompositionOffsets: ArrayView<UInt32> = try take(decompositionKeys + 1, "decomposition offsets")
        let decompositionValueView: ArrayView<UInt32> = try take(decompositionValues, "decomposition values")
        let combiningKeys: ArrayView<UInt32> = try take(combining, "combining-class keys")
        let combiningValues: ArrayView<UInt8> = try take(combining, "combining classes")
        guard cursor == bytes.count else {
            throw TokenizerError(message: "tokenizer section: \(bytes.count - cursor) bytes left over")
        }

        guard slotCount >= 16, slotCount & (slotCount - 1) == 0, slotCount >= tokens else {
            throw TokenizerError(
                message:
                    "tokenizer section: hash slot count \(slotCount) is not a power of two ≥ 16 and ≥ the token count")
        }
        try ascending(offsets, last: blobLength, "token offsets")
        var empty = 0
        for index in 0..<slotCount {
            if slots[index] == 0 { empty += 1 }
            if Int(slots[index]) > tokens {
                throw TokenizerError(
                    message: "tokenizer section: hash slot \(index) names token \(slots[index] - 1) of \(tokens)")
            }
        }
        // A probe for a missing token stops only at an empty slot.
        guard empty > 0 else { throw TokenizerError(message: "tokenizer section: the hash table has no empty slot") }
        try ascending(lowerOffsets, last: lowerValues, "lowercase offsets")
        try ascending(decompositionOffsets, last: decompositionValues, "decomposition offsets")
        try sorted(lowerKeyView, "lowercase keys")
        try sorted(decompositionKeyView, "decomposition keys")
        try sorted(combiningKeys, "combining-class keys")
        try sorted(starts, "astral starts")
        for view in [lowerValueView, decompositionValueView] {
            for index in 0..<view.count where Unicode.Scalar(view[index]) == nil {
                throw TokenizerError(
                    message: "tokenizer section: \(String(view[index], radix: 16)) is not a Unicode scalar")
            }
        }
        let vocabulary = Vocabulary(bytes: blob, offsets: offsets, slots: slots, prefix: continuationPrefix)
        let tables = UnicodeTables(
            bmp: bmp, astralStarts: starts, astralEnds: ends, astralFlags: flags, lowerKeys: lowerKeyView,
            lowerOffsets: lowerOffsets, lowerValues: lowerValueView, decompositionKeys: decompositionKeyView,
            decompositionOffsets: decompositionOffsets, decompositionValues: decompositionValueView,
            combiningKeys: combiningKeys, combiningValues: combiningValues)
        return (vocabulary, tables)
    }

    private static func ascending(_ offsets: ArrayView<UInt32>, last: Int, _ field: String) throws(TokenizerError) {
        guard offsets[0] == 0, Int(offsets[offsets.count - 1]) == last else {
            throw TokenizerError(message: "tokenizer section: \(field) do not span their values")
        }
        for index in 1..<offsets.count where offsets[index] < offsets[index - 1] {
            throw TokenizerError(message: "tokenizer section: \(field) decrease at \(index)")
        }
    }

    private static func sorted(_ keys: ArrayView<UInt32>, _ field: String) throws(TokenizerError) {
        for index in 1..<max(1, keys.count) where keys[index] <= keys[index - 1] {
            throw TokenizerError(message: "tokenizer section: \(field) are not strictly ascending at \(index)")
        }
    }
}
