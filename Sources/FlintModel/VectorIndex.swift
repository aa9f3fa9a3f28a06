import FlintJSON

/// A search index file (`.flintidx`): document embeddings as int8 rows with one scale each, in the kernels' packed
/// layout, plus each document's JSON (id, text, metadata) and the model that made it. Built once at package
/// time by `flint index`; read whole at init (10,000 MiniLM documents are about 4 MB of vectors).
///
/// Layout (little-endian): a 128-byte header — magic `FLINTIDX`, version `u32` (1), dimensions `u32`, count
/// `u64`, padded count `u64` (count rounded up to 8; padding rows are zero), then offset/length `u64` pairs for the
/// info JSON, the vectors (padded × dimensions bytes, 64-aligned), the scales (padded f32), the documents (JSON
/// texts back to back) and the document offsets (count + 1 `u64`). Every range is checked on read; a document's
/// JSON is parsed only when it is returned.
public struct VectorIndex: Sendable {
    /// The embedding width.
    public let dimensions: Int
    /// Documents in the index.
    public let count: Int
    /// Rows stored (count rounded up to a multiple of 8).
    public let paddedCount: Int
    /// The info object: `modelName`, `modelVersion`, `producer`.
    public let info: JSONValue
    /// The vectors, packed (see `PackedLayout`), `paddedCount × dimensions`.
    public let vectors: [Int8]
    /// One scale per row.
    public let scales: [Float]
    private let documentBytes: [UInt8]
    private let documentOffsets: [Int]

    static let magic = Array("FLINTIDX".utf8)
    static let headerSize = 128

    /// Document `index`'s JSON (as written by the indexer: an object with `id`, `text` and metadata).
    public func document(_ index: Int) -> JSONValue {
        let bytes = Array(documentBytes[documentOffsets[index]..<documentOffsets[index + 1]])
        return (try? JSONValue(parsing: bytes)) ?? .null
    }

    /// Reads and validates an index file.
    public static func open(_ path: String) throws(ModelFileError) -> VectorIndex {
        guard let bytes = try FileBytes.read(path) else { throw ModelFileError("no index file at \(path)") }
        do { return try VectorIndex(bytes: bytes) } catch { throw ModelFileError("\(path): \(error.message)") }
    }

    /// Validates an index held in memory.
    public init(bytes: [UInt8]) throws(ModelFileError) {
        func u32(_ offset: Int) -> Int {
            Int(bytes[offset..<(offset + 4)].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
        }
        func u64(_ offset: Int) -> Int {
            let value = bytes[offset..<(offset + 8)].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            return value > UInt64(Int.max) ? Int.max : Int(value)
        }
        guard bytes.count >= Self.headerSize, Array(bytes[0..<8]) == Self.magic else {
            throw ModelFileError("not a Flint index (no FLINTIDX header)")
        }
        guard u32(8) == 1 else {
            throw ModelFileError("index format version \(u32(8)) is not supported (this build reads 1)")
        }
        dimensions = u32(12)
        count = u64(16)
        paddedCount = u64(24)
        guard dimensions > 0, dimensions % 4 == 0, dimensions <= 65_536, count <= 1 << 31,
            paddedCount == (count + 7) / 8 * 8
        else {
            throw ModelFileError(
                "header: \(dimensions) dimensions, \(count) documents, \(paddedCount) rows do not fit together")
        }
        func range(_ at: Int, _ name: String, length expected: Int? = nil) throws(ModelFileError) -> Range<Int> {
            let offset = u64(at), length = u64(at + 8)
            guard offset >= Self.headerSize, offset <= bytes.count, length <= bytes.count - offset,
                expected.map({ $0 == length }) ?? true
            else {
                throw ModelFileError(
                    "\(name) (offset \(offset), length \(length)) lies outside the file or has the wrong size")
            }
            return offset..<(offset + length)
        }
        let infoRange = try range(32, "info")
        let vectorRange = try range(48, "vectors", length: paddedCount * dimensions)
        let scaleRange = try range(64, "scales", length: paddedCount * 4)
        let documentRange = try range(80, "documents")
        let offsetRange = try range(96, "document offsets", length: (count + 1) * 8)
        do { info = try JSONValue(parsing: Array(bytes[infoRange])) } catch { throw ModelFileError("info: \(error)") }
        // Bulk copies: an index of 10,000 documents is megabytes, and element-wise conversion would cost
        // milliseconds of every cold start.
        vectors = bytes.withUnsafeBytes { raw in
            Array(UnsafeRawBufferPointer(rebasing: raw[vectorRange]).bindMemory(to: Int8.self))
        }
        scales = bytes.withUnsafeBytes { raw in
            (0..<(scaleRange.count / 4)).map {
                Float(
                    bitPattern: UInt32(
                        littleEndian: raw.loadUnaligned(fromByteOffset: scaleRange.lowerBound + $0 * 4, as: UInt32.self)
                    ))
            }
        }
        guard scales.allSatisfy({ $0.isFinite && $0 >= 0 }) else {
            throw ModelFileError("scales: a scale is negative or not finite")
        }
        documentBytes = Array(bytes[documentRange])
        var offsets: [Int] = []
        let documents = count
        offsets.reserveCapacity(documents + 1)
        bytes.withUnsafeBytes { raw in
            for index in 0...documents {
                let value = UInt64(
                    littleEndian: raw.loadUnaligned(fromByteOffset: offsetRange.lowerBound + index * 8, as: UInt64.self)
                )
                offsets.append(value > UInt64(Int.max) ? Int.max : Int(value))
            }
        }
        guard offsets.first == 0, offsets.last == documentBytes.count,
            zip(offsets, offsets.dropFirst()).allSatisfy({ $0 <= $1 })
        else {
            throw ModelFileError("document offsets are not increasing from 0 to the documents' length")
        }
        documentOffsets = offsets
    }

    /// The bytes of an index over `vectors` (each `dimensions` long, as the model returns them) and their documents.
    public static func encode(
        vectors: [[Float]], documents: [JSONValue], info: JSONValue
    ) throws(ModelFileError) -> [UInt8] {
        guard vectors.count == documents.count else {
            throw ModelFileError("\(vectors.count) vectors for \(documents.count) documents")
        }
        let dimensions = vectors.first?.count ?? 4
        guard dimensions % 4 == 0, vectors.allSatisfy({ $0.count == dimensions }) else {
            throw ModelFileError("vectors must all have the same width, a multiple of 4")
        }
        let padded = (vectors.count + 7) / 8 * 8
        var flat = vectors.flatMap { $0 }
        flat += [Float](repeating: 0, count: (padded - vectors.count) * dimensions)
        let (rows, scales, _) = Quantizer.quantizeRows(flat, rowLength: dimensions)
        let packed = padded == 0 ? [] : PackedLayout.pack(rows, rows: padded, columns: dimensions)
        var documentBytes: [UInt8] = [], offsets: [Int] = [0]
        for document in documents {
            document.write(to: &documentBytes)
            offsets.append(documentBytes.count)
        }
        let infoBytes = info.jsonBytes

        var out = [UInt8](repeating: 0, count: headerSize)
        func align() { while out.count % 64 != 0 { out.append(0) } }
        func put(_ value: Int, at offset: Int, width: Int) {
            for byte in 0..<width { out[offset + byte] = UInt8(truncatingIfNeeded: value >> (8 * byte)) }
        }
        out.replaceSubrange(0..<8, with: magic)
        put(1, at: 8, width: 4)
        put(dimensions, at: 12, width: 4)
        put(vectors.count, at: 16, width: 8)
        put(padded, at: 24, width: 8)
        func section(_ bytes: [UInt8], at slot: Int) {
            align()
            put(out.count, at: slot, width: 8)
            put(bytes.count, at: slot + 8, width: 8)
            out += bytes
        }
        section(infoBytes, at: 32)
        section(packed, at: 48)
        var scaleBytes: [UInt8] = []
        for scale in scales { ModelWriter.appendInteger(scale.bitPattern, to: &scaleBytes) }
        section(scaleBytes, at: 64)
        section(documentBytes, at: 80)
        var offsetBytes: [UInt8] = []
        for offset in offsets { ModelWriter.appendInteger(UInt64(offset), to: &offsetBytes) }
        section(offsetBytes, at: 96)
        return out
    }
}
