// Encoder latency and throughput, in-process (no JSON, no process start): median milliseconds per forward pass
// for one short text (12 tokens), one 256-token text, and texts per second for batches of 32 short texts,
// single-text passes against one packed batch.
//
//   swift run -c release flint-encoder-bench <model.flint> [rounds] [short | medium | long | search <index.flintidx>]
import CKernels
import Embedder
import FlintModel
import WordPiece

#if canImport(Glibc)
import Glibc
#endif

func now() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) * 1e3 + Double(time.tv_nsec) / 1e6
}

func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    print("usage: flint-encoder-bench <model.flint> [rounds]")
    exit(2)
}
let rounds = arguments.count > 2 ? Int(arguments[2]) ?? 200 : 200
// FLINT_KERNEL, FLINT_THREADS, FLINT_SPIN_US and FLINT_ACTIVATION_GROUP, as a bootstrap reads them.
let compute: ComputeSettings
do {
    compute = try ComputeSettings(lookup: { getenv($0).map { String(cString: $0) } })
    try compute.apply()
} catch {
    print("flint-encoder-bench: \(error)")
    exit(2)
}
let model = try ModelFile.open(arguments[1])
let tokenizer = try model.tokenizer()
let encoder = try Encoder(model: model, activationGroup: compute.activationGroup)
let short = tokenizer.encode("The quick brown fox jumps over the lazy dog.").ids
extension Encoder {
    func embed(_ ids: [Int32], normalize: Bool) -> [Float] { embed(batch: [ids], normalize: normalize)[0] }
}
let medium = tokenizer.encode("Serverless inference keeps a small model mapped in memory and answers each request in milliseconds, so a sentence embedding costs less than the network round trip that carries it to the caller's search index.").ids
let long = tokenizer.encode(String(repeating: "Lambda functions embed sentences quickly and cheaply. ", count: 40)).ids
let batch = (0..<32).map { tokenizer.encode("Sentence number \($0) about serverless inference.").ids }

func time(_ count: Int, _ body: () -> Void) -> [Double] {
    body()   // warm
    return (0..<count).map { _ in let start = now(); body(); return now() - start }
}
let shortTimes = time(rounds) { _ = encoder.embed(short) }
if arguments.count > 4, arguments[3] == "search" {   // exact search over an index file: the query already embedded
    let index = try VectorIndex.open(arguments[4])
    let search = VectorSearch(index: index)
    let query = encoder.embed(short, normalize: true)
    let times = time(rounds * 5) { _ = search.search(query, top: 10) }
    print("search, \(index.count) documents × \(index.dimensions), top 10: median \(median(times)) ms, p90 \(times.sorted()[times.count * 9 / 10]) ms")
    exit(0)
}
if arguments.count > 3, arguments[3] == "medium" {   // the ~46-token case alone
    let times = time(rounds) { _ = encoder.embed(medium) }
    print("medium (\(medium.count) tokens): median \(median(times)) ms, p90 \(times.sorted()[times.count * 9 / 10]) ms")
    exit(0)
}
if arguments.count > 3, arguments[3] == "short" {   // for profiling the short case alone
    print("short (\(short.count) tokens): median \(median(shortTimes)) ms")
    exit(0)
}
let longTimes = time(max(5, rounds / 20)) { _ = encoder.embed(long) }
if arguments.count > 3, arguments[3] == "long" {   // for profiling the long case (the short one ran first)
    print("long (\(long.count) tokens): median \(median(longTimes)) ms")
    exit(0)
}
let singles = time(max(5, rounds / 20)) { for ids in batch { _ = encoder.embed(ids) } }
let packed = time(max(5, rounds / 20)) { _ = encoder.embed(batch: batch) }
let batchTokens = batch.reduce(0) { $0 + $1.count }
print("threads \(flint_thread_count()), kernel \(String(cString: flint_kernel_name(flint_kernel_selected())))")
print("short (\(short.count) tokens): median \(median(shortTimes)) ms, p90 \(shortTimes.sorted()[shortTimes.count * 9 / 10]) ms")
print("long (\(long.count) tokens): median \(median(longTimes)) ms")
print("32 short texts (\(batchTokens) tokens) one by one: median \(median(singles)) ms = \(Int(32_000 / median(singles))) texts/s")
print("32 short texts as one packed batch: median \(median(packed)) ms = \(Int(32_000 / median(packed))) texts/s")
