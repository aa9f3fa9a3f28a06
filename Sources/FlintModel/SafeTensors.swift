import FlintJSON

/// A `.safetensors` checkpoint read into memory: an 8-byte header length, a JSON header naming each tensor's
/// dtype, shape and byte range, then the data. Reads F32, F16 and BF16 as f32; other dtypes are listed but
/// cannot be read as floats.
public struct SafeTensors: Sendable {
    /// One tensor's entry in the header.
    public struct Entry: Sendable, Equatable {
        /// The element type as written in the header (`F32`, `F16`, `BF16`, ...).
        public let dtype: String
        /// Dimensions, outermost first.
        public let shape: [Int]
        let range: Range<Int>
    }

    /// Entries by tensor name.
    public let entries: [String: Entry]
    private let bytes: [UInt8]
    private let dataStart: Int

    /// Parses and checks the header of a checkpoint's bytes; each failure names the tensor or field.
    public init(bytes: [UInt8]) throws(ModelFileError) {
        guard bytes.count >= 8 else {
            throw ModelFileError("safetensors: file is shorter than its 8-byte header length")
        }
        let headerLength = bytes.withUnsafeBytes { Int(clamping: $0.loadUnaligned(as: UInt64.self).littleEndian) }
        guard headerLength <= bytes.count - 8 else {
            throw ModelFileError("safetensors: header length \(headerLength) exceeds the file (\(bytes.count) bytes)")
        }
        let header: JSONValue
        do {
            header = try JSONValue(parsing: Array(bytes[8..<(8 + headerLength)]))
        } catch {
            throw ModelFileError("safetensors: header is not valid JSON: \(error)")
        }
        guard let object = header.object else { throw ModelFileError("safetensors: header is not a JSON object") }
        let dataStart = 8 + headerLength
        var entries: [String: Entry] = [:]
        for (name, value) in object where name != "__metadata__" {
            guard let dtype = value["dtype"]?.string, let shape = value["shape"]?.array?.compactMap(\.integer),
                let offsets = value["data_offsets"]?.array?.compactMap(\.integer), offsets.count == 2
            else {
                throw ModelFileError("safetensors: tensor \(name) lacks dtype, shape or data_offsets")
            }
            guard offsets[0] >= 0, offsets[0] <= offsets[1], offsets[1] <= bytes.count - dataStart else {
                throw ModelFileError("safetensors: tensor \(name) data \(offsets) lies outside the file")
            }
            let elements = shape.reduce(1) { $0.multipliedReportingOverflow(by: max($1, 0)).partialValue }
            if let size = Self.elementSize(dtype), elements * size != offsets[1] - offsets[0] {
                throw ModelFileError(
                    "safetensors: tensor \(name) has \(offsets[1] - offsets[0]) bytes for \(shape) \(dtype)")
            }
            entries[name] = Entry(
                dtype: dtype, shape: shape, range: (dataStart + offsets[0])..<(dataStart + offsets[1]))
        }
        self.entries = entries
        self.bytes = bytes
        self.dataStart = dataStart
    }

    static func elementSize(_ dtype: String) -> Int? {
        switch dtype {
        case "F32", "I32", "U32": 4
        case "F16", "BF16", "I16", "U16": 2
        case "F64", "I64", "U64": 8
        case "I8", "U8", "BOOL", "F8_E4M3", "F8_E5M2": 1
        default: nil
        }
    }

    /// The tensor's values as f32, or an error naming an unsupported dtype.
    public func floats(_ name: String) throws(ModelFileError) -> [Float] {
        guard let entry = entries[name] else { throw ModelFileError("safetensors: no tensor \(name)") }
        let count = entry.range.count
        guard ["F32", "F16", "BF16"].contains(entry.dtype) else {
            throw ModelFileError(
                "safetensors: tensor \(name) has dtype \(entry.dtype); only F32, F16 and BF16 weights are supported")
        }
        return bytes.withUnsafeBytes { raw -> [Float] in
            let start = entry.range.lowerBound
            switch entry.dtype {
            case "F32":
                return (0..<(count / 4)).map {
                    Float(bitPattern: raw.loadUnaligned(fromByteOffset: start + $0 * 4, as: UInt32.self).littleEndian)
                }
            case "F16":
                return (0..<(count / 2)).map {
                    Float(
                        Float16(
                            bitPattern: raw.loadUnaligned(fromByteOffset: start + $0 * 2, as: UInt16.self).littleEndian)
                    )
                }
            default:  // BF16
                return (0..<(count / 2)).map {
                    Float(
                        bitPattern: UInt32(
                            raw.loadUnaligned(fromByteOffset: start + $0 * 2, as: UInt16.self).littleEndian) << 16)
                }
            }
        }
    }
}
