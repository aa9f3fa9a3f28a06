/// The packed layout of int8 linear weights in a model file, the one the kernels read (`flint_pack_s8` in
/// CKernels is the same mapping): rows in blocks of 8; within block b, for each quad q of 4 consecutive columns,
/// the 8 rows' 4 bytes back to back. One 32-byte load is then 4 inputs of 8 outputs.
public enum PackedLayout {
    /// Whether a shape can be packed: 2-D, rows a multiple of 8, columns of 4.
    public static func fits(_ shape: [Int]) -> Bool {
        shape.count == 2 && shape[0] % 8 == 0 && shape[1] % 4 == 0
    }

    /// Where value (row, column) of a `columns`-wide matrix lives in the packed bytes.
    @inline(__always)
    public static func index(row: Int, column: Int, columns: Int) -> Int {
        ((row / 8 * (columns / 4) + column / 4) * 8 + row % 8) * 4 + column % 4
    }

    /// Packs row-major bytes.
    public static func pack(_ bytes: [UInt8], rows: Int, columns: Int) -> [UInt8] {
        var packed = [UInt8](repeating: 0, count: bytes.count)
        for row in 0..<rows {
            for column in 0..<columns {
                packed[index(row: row, column: column, columns: columns)] = bytes[row * columns + column]
            }
        }
        return packed
    }
}
