/// One tensor in a model file: its name, type, shape and where its data and scales are.
public struct TensorInfo: Sendable, Equatable {
    /// Element types.
    public enum DataType: UInt32, Sendable {
        case float32 = 0
        /// int8 rows, row-major, with f32 scales: one per row, or one per group of columns (``TensorInfo/scaleGroups``
        /// equal groups a row, scale of (row, column) at `row * groups + column / (rowLength / groups)`).
        case int8 = 1
        /// int8 with one f32 scale per row, in the kernels' packed layout (blocks of 8 rows, 4 inputs of each
        /// row back to back; see `flint_pack_s8`): 2-D, rows % 8 == 0, columns % 4 == 0.
        case int8Packed = 2

        var size: Int { self == .float32 ? 4 : 1 }
        /// Short name for listings: f32, i8, i8p.
        public var name: String { ["f32", "i8", "i8p"][Int(rawValue)] }
        /// Whether values are int8 with per-row scales.
        public var isQuantized: Bool { self != .float32 }
    }

    /// The checkpoint's name, e.g. `encoder.layer.0.attention.self.query.weight`.
    public let name: String
    /// How the values are stored.
    public let dataType: DataType
    /// Dimensions, outermost first (1–4 of them).
    public let shape: [Int]
    /// Data offset and length, relative to the tensor-data section.
    public let dataOffset: Int
    /// Length of the data in bytes.
    public let dataLength: Int
    /// Scales (f32), relative to the tensor-data section: one per row for int8, none for f32.
    public let scaleOffset: Int
    /// Number of f32 scales (rows for int8, 0 for f32).
    public let scaleCount: Int

    /// Number of elements.
    public var elementCount: Int { shape.reduce(1, *) }
    /// Length of the last dimension.
    public var rowLength: Int { shape.last ?? 1 }
    /// Number of rows (elements / row length).
    public var rowCount: Int { elementCount / max(1, rowLength) }
    /// Scales per row: 1, or the number of equal column groups each with its own scale (row-major int8 only).
    public var scaleGroups: Int { dataType.isQuantized ? max(1, scaleCount / max(1, rowCount)) : 0 }
}
