/// The `.flint` format's constants, one place for the writer and the reader; `ModelFormat.md` beside this file is
/// the specification they follow.
public enum ModelFormat {
    /// The first eight bytes.
    static let magic = Array("FLINTMDL".utf8)
    /// The format version this build writes. 4: a linear layer's inputs may be smoothed (`…input_smoothing`
    /// multipliers, ``InputSmoothing``), which a version 3 reader would ignore and compute wrong outputs. 3: a file may hold a classification head (f32 tensors beside the
    /// encoder's) and its task metadata (`classifier`, `prompts`, `architecture` `distilbert`). 2: an encoder's linear
    /// weights are packed int8 (dtype 2) or f32, never row-major int8.
    public static let version: UInt32 = 4
    /// The versions this build reads: version 2 and 3 files open as before (nothing smoothed); version 1 files
    /// (whose linear weights could be row-major or packed) are refused with a line saying to quantize again.
    public static let readableVersions: ClosedRange<UInt32> = 2...4
    /// The fixed header: magic, version, section count, file size, index checksum, SHA-256.
    static let headerSize = 64
    /// Where every section and every tensor's data start: a multiple of this.
    static let alignment = 64
    /// One tensor-table entry.
    static let tensorEntrySize = 88
    /// One section-table entry: kind, reserved, offset, length.
    static let sectionEntrySize = 24

    /// The sections, each once.
    enum SectionKind: UInt32, CaseIterable {
        case metadata = 1
        case tokenizer = 2
        case tensorTable = 3
        case tensorData = 4
    }

    /// FNV-1a 64 of bytes 0–23, the section table, and the metadata and tensor-table sections (the parts a reader
    /// trusts to find everything else); assumes the section table was bounds-checked.
    static func indexChecksum(_ file: UnsafeRawBufferPointer) -> UInt64 {
        var state: UInt64 = 0xCBF2_9CE4_8422_2325
        func add(_ range: Range<Int>) {
            for index in range { state = (state ^ UInt64(file[index])) &* 0x0000_0100_0000_01B3 }
        }
        add(0..<24)
        let count = Int(file.loadUnaligned(fromByteOffset: 12, as: UInt32.self).littleEndian)
        add(headerSize..<(headerSize + sectionEntrySize * count))
        for section in 0..<count {
            let entry = headerSize + sectionEntrySize * section
            let kind = file.loadUnaligned(fromByteOffset: entry, as: UInt32.self).littleEndian
            guard kind == SectionKind.metadata.rawValue || kind == SectionKind.tensorTable.rawValue else { continue }
            let offset = Int(file.loadUnaligned(fromByteOffset: entry + 8, as: UInt64.self).littleEndian)
            let length = Int(file.loadUnaligned(fromByteOffset: entry + 16, as: UInt64.self).littleEndian)
            add(offset..<(offset + length))
        }
        return state
    }
}
