// libFuzzer target for the tokenizer: any text (and any pair) must tokenize without a crash, within the length
// limit, framed by [CLS] ... [SEP]. Built and run by Tests/Fuzz/run.
import WordPiece

let vocabulary = Vocabulary(
    tokens: ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "##b", "hello", "##s", "日", "!", "i"].map {
        Array($0.utf8)
    })
let tokenizer: WordPieceTokenizer = {
    var configuration = TokenizerConfiguration()
    configuration.maxLength = 32
    return try! WordPieceTokenizer(vocabulary: vocabulary, configuration: configuration)
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTokenizer(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let single = tokenizer.encode(text)
    precondition(single.ids.count <= 32 && single.ids.first == 2 && single.ids.last == 3, "bad framing")
    let half = text.index(text.startIndex, offsetBy: text.count / 2)
    let pair = tokenizer.encode(String(text[..<half]), String(text[half...]))
    precondition(pair.ids.count <= 32 && pair.ids.count == pair.typeIDs.count, "bad pair")
    return 0
}

// SwiftPM links an executable's entry point as `TokenizerFuzz_main`; hand control to libFuzzer's driver from there.
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> Int32
) -> Int32

@_cdecl("TokenizerFuzz_main")
public func fuzzerMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc
    var arguments = argv
    return runFuzzerDriver(&count, &arguments) { fuzzTokenizer($0, $1) }
}
