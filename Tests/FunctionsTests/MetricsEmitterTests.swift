import FlintJSON
import Foundation
import Functions
import Testing

/// EMF lines leave whole even when they are far larger than PIPE_BUF and several loops write at once.
@Suite(.timeLimit(.minutes(1)))
struct MetricsEmitterTests {
    @Test func largeLinesFromConcurrentWritersNeverInterleave() throws {
        var ends: [Int32] = [0, 0]
        try #require(pipe(&ends) == 0)
        let readEnd = ends[0], writeEnd = ends[1]
        let emitters = try (0..<2).map { _ in
            try MetricsEmitter(
                configuration: FunctionConfiguration(values: .object([:])), functionName: "f", model: nil,
                fileDescriptor: writeEnd)
        }
        let writers = 4, linesEach = 20
        // 100 KB of text in each line: 25 times PIPE_BUF.
        let payload: [UInt8] = Array(JSONValue.string(String(repeating: "x", count: 100_000)).jsonBytes)
        let reader = Thread.detachNewThreadWithResult { () -> [UInt8] in
            var all: [UInt8] = [], chunk = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let count = chunk.withUnsafeMutableBytes { read(readEnd, $0.baseAddress, $0.count) }
                if count <= 0 { return all }
                all.append(contentsOf: chunk[0..<count])
            }
        }
        DispatchQueue.concurrentPerform(iterations: writers) { writer in
            for line in 0..<linesEach {
                emitters[writer % 2].emit([("Lines", "Count", Double(line))], embedded: ("payload", payload))
            }
        }
        close(writeEnd)
        let bytes = reader.wait()
        close(readEnd)
        let lines = bytes.split(separator: 0x0A)
        #expect(lines.count == writers * linesEach)
        for line in lines {
            let document = try JSONValue(parsing: Array(line))
            #expect(document["payload"]?.string?.count == 100_000)
        }
    }
}

extension Thread {
    /// A thread running `body`; `wait()` returns its result.
    final class Result<T>: @unchecked Sendable {
        private let done = DispatchSemaphore(value: 0)
        private var value: T?
        func set(_ value: T) {
            self.value = value
            done.signal()
        }
        func wait() -> T {
            done.wait()
            return value!
        }
    }

    static func detachNewThreadWithResult<T>(_ body: @escaping @Sendable () -> T) -> Result<T> {
        let result = Result<T>()
        Thread.detachNewThread { result.set(body()) }
        return result
    }
}
