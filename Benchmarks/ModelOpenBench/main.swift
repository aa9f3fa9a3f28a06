// flint-model-open-bench: time to map and validate a model file, with and without the full SHA-256, and to get
// its tokenizer ready; median of N opens in one process (the page cache is warm after the first).
//
//   flint-model-open-bench <model.flint> [opens]
import FlintModel
import Foundation
import WordPiece

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    FileHandle.standardError.write(Data("usage: flint-model-open-bench <model.flint> [opens]\n".utf8))
    exit(2)
}
let opens = arguments.count > 2 ? Int(arguments[2]) ?? 51 : 51
func milliseconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
}
func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
var open: [Double] = [], openAndTokenizer: [Double] = [], verified: [Double] = []
for round in 0..<opens {
    open.append(try milliseconds { _ = try ModelFile.open(arguments[1]) })
    openAndTokenizer.append(try milliseconds {
        let model = try ModelFile.open(arguments[1])
        _ = try model.tokenizer().encode("warm up")
    })
    if round < 7 { verified.append(try milliseconds { _ = try ModelFile.open(arguments[1], verifyChecksum: true) }) }
}
print(String(format: "open (map + validate): %.3f ms; + tokenizer ready: %.3f ms; with full SHA-256: %.1f ms (medians; %d opens, 7 verified)",
             median(open), median(openAndTokenizer), median(verified), opens))
