import FlintJSON
import WordPiece

#if canImport(Glibc)
import Glibc
#endif

/// A model file mapped read-only and validated: metadata, the tokenizer, and typed views of every tensor.
///
/// Nothing is copied: tensors and tokenizer tables are read in place from the mapping, which lives as long as
/// this object (and the tokenizers and views made from it). `open` checks every count, length and offset against
/// the file (see ModelFormat.md) and throws a ``ModelFileError`` naming the field; the full SHA-256 is checked
/// only when asked, since it reads every byte.
///
/// ```swift
/// let model = try ModelFile.open("model.flint")
/// let tokenizer = try model.tokenizer()
/// ```
public final class ModelFile: @unchecked Sendable {
    // @unchecked: immutable after init; the mapping is read-only.
    /// The metadata JSON object.
    public let metadata: JSONValue
    /// Tensors by name.
    public let tensors: [String: TensorInfo]
    /// Tensor names in file order.
    public let tensorNames: [String]
    /// The file's size in bytes.
    public let size: Int
    /// The format version it was written in (``ModelFormat/readableVersions``).
    public let version: Int

    private let base: UnsafeRawPointer
    private let release: (() -> Void)?
    private let tokenizerRange: Range<Int>
    private let dataOffset: Int

    /// Maps and validates the file at `path`.
    public static func open(_ path: String, verifyChecksum: Bool = false) throws(ModelFileError) -> ModelFile {
        let descriptor = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw ModelFileError("cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            throw ModelFileError("cannot stat \(path): \(String(cString: strerror(errno)))")
        }
        let size = Int(status.st_size)
        guard size >= ModelFormat.headerSize else {
            throw ModelFileError(
                "\(path) is not a Flint model: \(size) bytes is shorter than the \(ModelFormat.headerSize)-byte header")
        }
        guard let mapping = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0), mapping != MAP_FAILED else {
            throw ModelFileError("cannot map \(path): \(String(cString: strerror(errno)))")
        }
        adviseIndex(mapping, size: size)
        do {
            let file = try ModelFile(base: UnsafeRawPointer(mapping), size: size, verifyChecksum: verifyChecksum) {
                munmap(mapping, size)
            }
            file.adviseReading(mapping)
            return file
        } catch {
            munmap(mapping, size)
            throw ModelFileError("\(path): \(error.message)")
        }
    }

    /// Validates a model held in memory (a copy is kept, 64-byte aligned): for tests and fuzzing.
    public convenience init(bytes: [UInt8], verifyChecksum: Bool = false) throws(ModelFileError) {
        let storage = UnsafeMutableRawPointer.allocate(byteCount: max(1, bytes.count), alignment: 64)
        bytes.withUnsafeBytes {
            storage.copyMemory(from: $0.baseAddress ?? UnsafeRawPointer(storage), byteCount: bytes.count)
        }
        do {
            try self.init(base: UnsafeRawPointer(storage), size: bytes.count, verifyChecksum: verifyChecksum) {
                storage.deallocate()
            }
        } catch {
            storage.deallocate()
            throw error
        }
    }

    private init(
        base: UnsafeRawPointer, size: Int, verifyChecksum: Bool, release: @escaping () -> Void
    ) throws(ModelFileError) {
        let file = FileReader(bytes: UnsafeRawBufferPointer(start: base, count: size))
        try file.checkHeader()
        let sections = try file.sections()
        guard ModelFormat.indexChecksum(file.bytes) == file.u64(24) else {
            throw ModelFileError(
                "index checksum mismatch: the header, section table, metadata or tensor table is corrupt")
        }
        if verifyChecksum {
            var sha = SHA256()
            sha.update(UnsafeRawBufferPointer(rebasing: file.bytes[ModelFormat.headerSize...]))
            guard sha.finalize().elementsEqual(file.bytes[32..<64]) else {
                throw ModelFileError("SHA-256 mismatch: the file's contents are corrupt")
            }
        }
        let metadata: JSONValue
        do {
            metadata = try JSONValue(parsing: Array(file.bytes[sections[.metadata]!]))
        } catch {
            throw ModelFileError("metadata is not valid JSON: \(error)")
        }
        guard case .object = metadata else { throw ModelFileError("metadata is not a JSON object") }
        let (tensors, names) = try file.tensorTable(sections[.tensorTable]!, data: sections[.tensorData]!)
        self.metadata = metadata
        self.tensors = tensors
        self.tensorNames = names
        self.size = size
        self.version = file.u32(8)
        self.base = base
        self.release = release
        self.tokenizerRange = sections[.tokenizer]!
        self.dataOffset = sections[.tensorData]!.lowerBound
    }

    /// The steps of reading a file's structure, each checking what it reads against the file's bounds.
    private struct FileReader {
        let bytes: UnsafeRawBufferPointer

        func u32(_ offset: Int) -> Int {
            Int(bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self).littleEndian)
        }
        func u64(_ offset: Int) -> UInt64 { bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self).littleEndian }

        /// Magic, version and the size the header records.
        func checkHeader() throws(ModelFileError) {
            guard bytes.count >= ModelFormat.headerSize, bytes.starts(with: ModelFormat.magic) else {
                throw ModelFileError("not a Flint model file (bad magic)")
            }
            let version = u32(8)
            guard ModelFormat.readableVersions.contains(UInt32(version)) else {
                let again =
                    version < ModelFormat.readableVersions.lowerBound ? "; make it again with flint quantize" : ""
                let readable = ModelFormat.readableVersions
                throw ModelFileError(
                    "format version \(version) is not supported (this build reads versions \(readable.lowerBound)–\(readable.upperBound))\(again)"
                )
            }
            guard u64(16) == UInt64(bytes.count) else {
                throw ModelFileError(
                    "header says \(u64(16)) bytes but the file has \(bytes.count) (truncated or extended)")
            }
        }

        /// The section table: every kind once, each section aligned and inside the file.
        func sections() throws(ModelFileError) -> [ModelFormat.SectionKind: Range<Int>] {
            let count = u32(12)
            guard count >= 4, count <= 64, ModelFormat.headerSize + ModelFormat.sectionEntrySize * count <= bytes.count
            else {
                throw ModelFileError("section count \(count) does not fit the file")
            }
            var sections: [ModelFormat.SectionKind: Range<Int>] = [:]
            for index in 0..<count {
                let entry = ModelFormat.headerSize + ModelFormat.sectionEntrySize * index
                let offset = u64(entry + 8), length = u64(entry + 16)
                guard let kind = ModelFormat.SectionKind(rawValue: UInt32(u32(entry))) else {
                    throw ModelFileError("section \(index) has unknown kind \(u32(entry))")
                }
                guard offset % UInt64(ModelFormat.alignment) == 0, offset <= UInt64(bytes.count),
                    length <= UInt64(bytes.count) - offset
                else {
                    throw ModelFileError(
                        "\(kind) section (offset \(offset), length \(length)) lies outside the file or is misaligned")
                }
                guard sections[kind] == nil else { throw ModelFileError("\(kind) section appears twice") }
                sections[kind] = Int(offset)..<Int(offset + length)
            }
            for kind in ModelFormat.SectionKind.allCases where sections[kind] == nil {
                throw ModelFileError("the \(kind) section is missing")
            }
            return sections
        }

        /// The tensor table: each entry's name, dtype, shape, data and scales checked against the data section.
        func tensorTable(
            _ table: Range<Int>, data: Range<Int>
        ) throws(ModelFileError) -> ([String: TensorInfo], [String]) {
            guard table.count >= 8 else { throw ModelFileError("tensor table is shorter than its 8-byte header") }
            let count = u32(table.lowerBound)
            let entriesEnd = table.lowerBound + 8 + count * ModelFormat.tensorEntrySize
            guard count <= 100_000, entriesEnd <= table.upperBound else {
                throw ModelFileError("tensor table: \(count) entries do not fit its \(table.count) bytes")
            }
            var tensors: [String: TensorInfo] = [:]
            var names: [String] = []
            for index in 0..<count {
                let tensor = try entry(
                    at: table.lowerBound + 8 + index * ModelFormat.tensorEntrySize, index: index,
                    names: entriesEnd..<table.upperBound, data: data)
                guard tensors[tensor.name] == nil else { throw ModelFileError("tensor \(tensor.name) appears twice") }
                tensors[tensor.name] = tensor
                names.append(tensor.name)
            }
            return (tensors, names)
        }

        /// One tensor-table entry.
        private func entry(
            at entry: Int, index: Int, names: Range<Int>, data: Range<Int>
        ) throws(ModelFileError) -> TensorInfo {
            let nameOffset = u32(entry), nameLength = u32(entry + 4)
            guard nameLength > 0, nameLength <= 512, nameOffset <= names.count - nameLength else {
                throw ModelFileError(
                    "tensor \(index): name (offset \(nameOffset), length \(nameLength)) lies outside the table")
            }
            let start = names.lowerBound + nameOffset
            guard let name = String(validating: bytes[start..<(start + nameLength)], as: UTF8.self) else {
                throw ModelFileError("tensor \(index): name is not UTF-8")
            }
            guard let type = TensorInfo.DataType(rawValue: UInt32(u32(entry + 8))) else {
                throw ModelFileError("tensor \(name): unknown dtype \(u32(entry + 8))")
            }
            let rank = u32(entry + 12)
            guard (1...4).contains(rank) else { throw ModelFileError("tensor \(name): rank \(rank) is not 1–4") }
            var shape: [Int] = []
            var elements = 1
            for dimension in 0..<4 {
                let value = u64(entry + 16 + 8 * dimension)
                guard value >= 1, value <= 1 << 32 else {
                    throw ModelFileError("tensor \(name): dimension \(dimension) is \(value)")
                }
                if dimension < rank {
                    shape.append(Int(value))
                    let (product, overflow) = elements.multipliedReportingOverflow(by: Int(value))
                    guard !overflow, product <= 1 << 34 else {
                        throw ModelFileError("tensor \(name): element count overflows")
                    }
                    elements = product
                }
            }
            let dataStart = u64(entry + 48), dataLength = u64(entry + 56), scaleStart = u64(entry + 64),
                scaleCount = u64(entry + 72)
            guard dataLength == UInt64(elements * type.size) else {
                throw ModelFileError("tensor \(name): \(dataLength) data bytes for \(elements) \(type.name) elements")
            }
            guard dataStart % UInt64(ModelFormat.alignment) == 0, dataStart <= UInt64(data.count),
                dataLength <= UInt64(data.count) - dataStart
            else {
                throw ModelFileError(
                    "tensor \(name): data (offset \(dataStart), length \(dataLength)) lies outside the data section")
            }
            if type == .int8Packed {
                guard rank == 2, shape[0] % 8 == 0, shape[1] % 4 == 0 else {
                    throw ModelFileError(
                        "tensor \(name): packed int8 needs 2 dimensions, rows a multiple of 8 and columns of 4, not \(shape)"
                    )
                }
            }
            // One scale per row; row-major int8 may have one per equal group of columns instead.
            let rows = elements / shape[rank - 1]
            let groups =
                type == .int8 && rows > 0 && scaleCount % UInt64(rows) == 0 ? Int(scaleCount / UInt64(rows)) : 1
            guard
                type.isQuantized
                    ? scaleCount == UInt64(rows * groups) && shape[rank - 1] % groups == 0 : scaleCount == 0
            else {
                let what =
                    type.isQuantized ? "\(rows) rows (or a number of equal column groups of each)" : "no scales (f32)"
                throw ModelFileError("tensor \(name): \(scaleCount) scales for \(what)")
            }
            guard scaleStart % 4 == 0, scaleStart <= UInt64(data.count),
                scaleCount * 4 <= UInt64(data.count) - scaleStart
            else {
                throw ModelFileError(
                    "tensor \(name): scales (offset \(scaleStart), count \(scaleCount)) lie outside the data section")
            }
            return TensorInfo(
                name: name, dataType: type, shape: shape, dataOffset: Int(dataStart), dataLength: Int(dataLength),
                scaleOffset: Int(scaleStart), scaleCount: Int(scaleCount))
        }
    }

    deinit { release?() }

    /// Advice before the first byte is read, so that a cold page cache gives the index at once (advice only: the
    /// section table is read unchecked here and bounds are clamped; `init` validates it). Without it the first
    /// touch of the header set off the fault's read-around (the device's whole read-ahead window: 8 MB on the VM
    /// measured) and waited for it, ~3 ms before the first byte of the header was there. `MADV_RANDOM` makes each
    /// fault read its page alone; the metadata and the tensor table (which `init` parses) are asked for first, as
    /// small requests, then the tokenizer, which the first request reads next.
    private static func adviseIndex(_ mapping: UnsafeMutableRawPointer, size: Int) {
        _ = madvise(mapping, size, MADV_RANDOM)
        let header = UnsafeRawBufferPointer(start: mapping, count: min(size, ModelFormat.headerSize))
        guard header.count == ModelFormat.headerSize else { return }
        // Entries the header counts (at most 64, as `init` allows) and the file holds.
        let counted = min(Int(header.loadUnaligned(fromByteOffset: 12, as: UInt32.self).littleEndian), 64)
        let count = min(counted, (size - ModelFormat.headerSize) / ModelFormat.sectionEntrySize)
        let table = UnsafeRawBufferPointer(
            start: mapping, count: ModelFormat.headerSize + ModelFormat.sectionEntrySize * count)
        var ranges: [ModelFormat.SectionKind: Range<Int>] = [:]
        for index in 0..<count {
            let entry = ModelFormat.headerSize + ModelFormat.sectionEntrySize * index
            let kind = table.loadUnaligned(fromByteOffset: entry, as: UInt32.self).littleEndian
            let offset = table.loadUnaligned(fromByteOffset: entry + 8, as: UInt64.self).littleEndian
            let length = table.loadUnaligned(fromByteOffset: entry + 16, as: UInt64.self).littleEndian
            guard let kind = ModelFormat.SectionKind(rawValue: kind), offset < UInt64(size) else { continue }
            ranges[kind] = Int(offset)..<Int(min(UInt64(size), offset + min(length, UInt64(size))))
        }
        ReadAhead.askFor([.metadata, .tensorTable, .tokenizer].compactMap { ranges[$0] }, in: mapping)
    }

    /// Tells the kernel how the first forward pass reads the file, once the tensor table is known (advice only:
    /// failure costs speed, not correctness): everything but the word embeddings soon and in order, by
    /// ``ReadAhead`` (the encoder's weights are read whole by the first pass), the word-embedding table a row at a
    /// time (a text touches a few of its 30,000 rows, so reading ahead around them would queue megabytes nobody
    /// needs in front of the layers' weights; `MADV_RANDOM`, set before the index was read, stays on the whole
    /// mapping for that). The writer puts the word embeddings last, so the rest is one range.
    private func adviseReading(_ mapping: UnsafeMutableRawPointer) {
        guard let words = tensors["embeddings.word_embeddings.weight"] else {
            ReadAhead.start([dataOffset..<size], in: mapping, owner: self)
            return
        }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = (dataOffset + min(words.dataOffset, words.scaleOffset)) / page * page
        let end = min(
            size,
            (dataOffset + max(words.dataOffset + words.dataLength, words.scaleOffset + words.scaleCount * 4) + page - 1)
                / page * page)
        // Files written before the table went last (version 2) may have it first: nothing before it then.
        ReadAhead.start([dataOffset..<max(dataOffset, start), end..<size], in: mapping, owner: self)
    }

    /// The tokenizer, reading its tables in place and its settings from the metadata.
    public func tokenizer() throws(ModelFileError) -> WordPieceTokenizer {
        let settings = metadata["tokenizer"] ?? .object([:])
        var configuration = TokenizerConfiguration()
        configuration.lowercase = settings["lowercase"]?.bool ?? true
        configuration.stripAccents = settings["stripAccents"]?.bool
        configuration.cleanText = settings["cleanText"]?.bool ?? true
        configuration.handleChineseCharacters = settings["handleChineseChars"]?.bool ?? true
        configuration.maxInputCharsPerWord = settings["maxInputCharsPerWord"]?.integer ?? 100
        configuration.maxLength = metadata["maxSequenceLength"]?.integer ?? 512
        configuration.continuationPrefix = settings["continuationPrefix"]?.string ?? "##"
        if let token = settings["unkToken"]?.string { configuration.unknownToken = token }
        if let token = settings["clsToken"]?.string { configuration.classToken = token }
        if let token = settings["sepToken"]?.string { configuration.separatorToken = token }
        if let tokens = settings["specialTokens"]?.array?.compactMap(\.string) { configuration.specialTokens = tokens }
        do {
            let bytes = UnsafeRawBufferPointer(start: base + tokenizerRange.lowerBound, count: tokenizerRange.count)
            let (vocabulary, tables) = try TokenizerAssets.load(
                bytes, owner: self, continuationPrefix: Array(configuration.continuationPrefix.utf8))
            return try WordPieceTokenizer(vocabulary: vocabulary, configuration: configuration, tables: tables)
        } catch {
            throw ModelFileError("tokenizer: \(error.message)")
        }
    }

    /// The f32 data of a float tensor.
    public func floats(_ name: String) -> UnsafeBufferPointer<Float>? {
        guard let tensor = tensors[name], tensor.dataType == .float32 else { return nil }
        return UnsafeBufferPointer(
            start: (base + dataOffset + tensor.dataOffset).assumingMemoryBound(to: Float.self),
            count: tensor.elementCount)
    }

    /// The int8 data of a quantized tensor stored row-major (nil for f32 and packed tensors).
    public func int8(_ name: String) -> UnsafeBufferPointer<Int8>? {
        guard let tensor = tensors[name], tensor.dataType == .int8 else { return nil }
        return UnsafeBufferPointer(
            start: (base + dataOffset + tensor.dataOffset).assumingMemoryBound(to: Int8.self),
            count: tensor.elementCount)
    }

    /// The int8 data of a tensor stored in the kernels' packed layout (nil for others).
    public func packedInt8(_ name: String) -> UnsafeBufferPointer<Int8>? {
        guard let tensor = tensors[name], tensor.dataType == .int8Packed else { return nil }
        return UnsafeBufferPointer(
            start: (base + dataOffset + tensor.dataOffset).assumingMemoryBound(to: Int8.self),
            count: tensor.elementCount)
    }

    /// The per-row scales of a quantized tensor (row-major or packed).
    public func scales(_ name: String) -> UnsafeBufferPointer<Float>? {
        guard let tensor = tensors[name], tensor.dataType.isQuantized else { return nil }
        return UnsafeBufferPointer(
            start: (base + dataOffset + tensor.scaleOffset).assumingMemoryBound(to: Float.self),
            count: tensor.scaleCount)
    }

    /// Any tensor as f32 (int8 rows multiplied by their scales): for reference paths and tests, not the hot path.
    public func dequantized(_ name: String) -> [Float]? {
        if let values = floats(name) { return Array(values) }
        guard let tensor = tensors[name], let scales = scales(name) else { return nil }
        var out = [Float](repeating: 0, count: tensor.elementCount)
        if let values = int8(name) {
            let groups = tensor.scaleGroups, width = tensor.rowLength / groups
            for row in 0..<tensor.rowCount {
                for column in 0..<tensor.rowLength {
                    out[row * tensor.rowLength + column] =
                        Float(values[row * tensor.rowLength + column]) * scales[row * groups + column / width]
                }
            }
        } else if let values = packedInt8(name) {
            for row in 0..<tensor.rowCount {
                for column in 0..<tensor.rowLength {
                    let index = PackedLayout.index(row: row, column: column, columns: tensor.rowLength)
                    out[row * tensor.rowLength + column] = Float(values[index]) * scales[row]
                }
            }
        }
        return out
    }
}
