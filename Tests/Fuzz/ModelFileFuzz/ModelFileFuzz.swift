// libFuzzer target for the model file reader: any bytes must give a model or a ModelFileError, never a crash or
// an out-of-bounds read (run under AddressSanitizer). Built and run by Tests/Fuzz/run.
import Embedder
import FlintModel
import WordPiece

/// Rewrites the index checksum (FNV-1a 64 of bytes 0–23, the section table, metadata and tensor table) so mutated
/// inputs reach the structural checks behind it; every offset is bounds-checked here, as the reader does.
func repairIndexChecksum(_ bytes: inout [UInt8]) {
    guard bytes.count >= 64 else { return }
    func u32(_ at: Int) -> Int {
        Int(bytes[at]) | Int(bytes[at + 1]) << 8 | Int(bytes[at + 2]) << 16 | Int(bytes[at + 3]) << 24
    }
    func u64(_ at: Int) -> UInt64 { (0..<8).reduce(0) { $0 | UInt64(bytes[at + $1]) << (8 * UInt64($1)) } }
    var state: UInt64 = 0xCBF2_9CE4_8422_2325
    func add(_ range: Range<Int>) {
        for index in range { state = (state ^ UInt64(bytes[index])) &* 0x0000_0100_0000_01B3 }
    }
    add(0..<24)
    let count = u32(12)
    guard count <= 64, 64 + 24 * count <= bytes.count else { return }
    add(64..<(64 + 24 * count))
    for section in 0..<count {
        let entry = 64 + 24 * section
        guard u32(entry) == 1 || u32(entry) == 3 else { continue }
        let offset = u64(entry + 8), length = u64(entry + 16)
        guard offset <= UInt64(bytes.count), length <= UInt64(bytes.count) - offset else { return }
        add(Int(offset)..<Int(offset + length))
    }
    for index in 0..<8 { bytes[24 + index] = UInt8(truncatingIfNeeded: state >> (8 * UInt64(index))) }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzModelFile(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    var bytes = Array(UnsafeBufferPointer(start: data, count: size))
    repairIndexChecksum(&bytes)
    guard let model = try? ModelFile(bytes: bytes) else { return 0 }
    for name in model.tensorNames {
        _ = model.dequantized(name)
    }
    if let tokenizer = try? model.tokenizer() {
        let ids = tokenizer.encode("Hello, wörld! 日本語 한국어 ﬁ İ [SEP] x").ids
        // The encoder's own checks (shapes, packed layouts, pruned ids) must refuse what it cannot run.
        if let encoder = try? Encoder(model: model), ids.allSatisfy({ Int($0) < tokenizer.vocabulary.count }) {
            _ = encoder.embed(Array(ids.prefix(8)))
        }
    }
    return 0
}

// SwiftPM links an executable's entry point as `ModelFileFuzz_main`; hand control to libFuzzer's driver from there.
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> Int32
) -> Int32

@_cdecl("ModelFileFuzz_main")
public func fuzzerMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc
    var arguments = argv
    return runFuzzerDriver(&count, &arguments) { fuzzModelFile($0, $1) }
}
