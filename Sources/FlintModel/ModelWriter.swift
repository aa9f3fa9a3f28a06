import FlintJSON
import FlintSystem

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A tensor to store: raw little-endian data (f32 or int8) and, for int8, one f32 scale per row.
public struct TensorPayload: Sendable {
    /// The tensor name.
    public var name: String
    /// How `data` is stored.
    public var dataType: TensorInfo.DataType
    /// Dimensions, outermost first.
    public var shape: [Int]
    /// The stored bytes, little-endian.
    public var data: [UInt8]
    /// One scale per row for int8 tensors; empty for f32.
    public var scales: [Float]

    /// Creates a payload; `data` must hold `shape`'s element count of `dataType`.
    public init(name: String, dataType: TensorInfo.DataType, shape: [Int], data: [UInt8], scales: [Float] = []) {
        self.name = name
        self.dataType = dataType
        self.shape = shape
        self.data = data
        self.scales = scales
    }
}

/// Lays out and writes model files (see ModelFormat.md). Deterministic: the same inputs give the same bytes.
public enum ModelWriter {
    private typealias Format = ModelFormat

    /// The whole file's bytes. Tensors are stored in name order, except the word-embedding table, which goes
    /// last: a first forward pass reads every other tensor whole but only a few of its rows, so the rest is one
    /// range the reader asks the kernel to read ahead (`ModelFile`), and the table is not in its way.
    public static func encode(metadata: JSONValue, tokenizerAssets: [UInt8], tensors: [TensorPayload]) -> [UInt8] {
        let last = "embeddings.word_embeddings.weight"
        let sorted = tensors.sorted { ($0.name == last ? 1 : 0, $0.name) < ($1.name == last ? 1 : 0, $1.name) }
        var data: [UInt8] = []
        var entries: [UInt8] = []
        var names: [UInt8] = []
        func align(_ buffer: inout [UInt8]) { while buffer.count % Format.alignment != 0 { buffer.append(0) } }
        for tensor in sorted {
            align(&data)
            let dataOffset = data.count
            data.append(contentsOf: tensor.data)
            align(&data)
            let scaleOffset = data.count
            for scale in tensor.scales {
                withUnsafeBytes(of: scale.bitPattern.littleEndian) { data.append(contentsOf: $0) }
            }
            var dims = tensor.shape
            while dims.count < 4 { dims.append(1) }
            appendInteger(UInt32(names.count), to: &entries)
            appendInteger(UInt32(tensor.name.utf8.count), to: &entries)
            appendInteger(tensor.dataType.rawValue, to: &entries)
            appendInteger(UInt32(tensor.shape.count), to: &entries)
            for dim in dims { appendInteger(UInt64(dim), to: &entries) }
            appendInteger(UInt64(dataOffset), to: &entries)
            appendInteger(UInt64(tensor.data.count), to: &entries)
            appendInteger(UInt64(scaleOffset), to: &entries)
            appendInteger(UInt64(tensor.scales.count), to: &entries)
            appendInteger(UInt32(0), to: &entries)
            appendInteger(UInt32(0), to: &entries)
            names.append(contentsOf: tensor.name.utf8)
        }
        var table: [UInt8] = []
        appendInteger(UInt32(sorted.count), to: &table)
        appendInteger(UInt32(0), to: &table)
        table += entries + names

        let sections: [(Format.SectionKind, [UInt8])] = [
            (.metadata, metadata.jsonBytes), (.tokenizer, tokenizerAssets), (.tensorTable, table), (.tensorData, data),
        ]
        var file = [UInt8](repeating: 0, count: Format.headerSize + Format.sectionEntrySize * sections.count)
        align(&file)
        var index: [UInt8] = []
        for (kind, bytes) in sections {
            align(&file)
            appendInteger(kind.rawValue, to: &index)
            appendInteger(UInt32(0), to: &index)
            appendInteger(UInt64(file.count), to: &index)
            appendInteger(UInt64(bytes.count), to: &index)
            file += bytes
        }
        file.replaceSubrange(Format.headerSize..<(Format.headerSize + index.count), with: index)
        var header = Format.magic
        appendInteger(Format.version, to: &header)
        appendInteger(UInt32(sections.count), to: &header)
        appendInteger(UInt64(file.count), to: &header)
        file.replaceSubrange(0..<24, with: header)
        var sha = SHA256()
        file.withUnsafeBytes { sha.update(UnsafeRawBufferPointer(rebasing: $0[Format.headerSize...])) }
        file.replaceSubrange(32..<64, with: sha.finalize())
        let checksum = file.withUnsafeBytes { Format.indexChecksum(UnsafeRawBufferPointer(rebasing: $0[...])) }
        var checksumBytes: [UInt8] = []
        appendInteger(checksum, to: &checksumBytes)
        file.replaceSubrange(24..<32, with: checksumBytes)
        return file
    }

    static func appendInteger<T: FixedWidthInteger>(_ value: T, to buffer: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { buffer.append(contentsOf: $0) }
    }

    /// Writes `bytes` to `path` atomically: a temporary file in the same folder, flushed, then renamed over it.
    public static func write(_ bytes: [UInt8], to path: String) throws(ModelFileError) {
        let temporary = path + ".tmp-\(getpid())"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard descriptor >= 0 else {
            throw ModelFileError("cannot create \(temporary): \(String(cString: strerror(errno)))")
        }
        var failure = FileDescriptor.writeAll(descriptor, bytes).map { String(cString: strerror($0)) }
        if failure == nil && fsync(descriptor) != 0 { failure = String(cString: strerror(errno)) }
        close(descriptor)
        if let failure {
            unlink(temporary)
            throw ModelFileError("cannot write \(temporary): \(failure)")
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw ModelFileError("cannot rename \(temporary) to \(path): \(reason)")
        }
    }
}
