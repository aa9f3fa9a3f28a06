import FlintSystem
import Foundation
import Synchronization
import TestSupport
import Testing

@testable import FlintModel

#if canImport(Glibc)
import Glibc
#endif

@Suite struct ReadAheadTests {
    @Test func rangesAreCutIntoPageAlignedPiecesInOrder() {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let ranges = [100..<(3 * ReadAhead.piece + 5), (5 * ReadAhead.piece)..<(5 * ReadAhead.piece + 10), 7..<7]
        let pieces = ReadAhead.pieces(ranges)
        #expect(pieces.count == 5)
        #expect(pieces.allSatisfy { $0.lowerBound % page == 0 && $0.count <= ReadAhead.piece && !$0.isEmpty })
        // The first range from its page's start to its end, without a gap; then the second; the empty one is none.
        #expect(pieces.first?.lowerBound == 0 && pieces[3].upperBound == 3 * ReadAhead.piece + 5)
        #expect(zip(pieces.prefix(3), pieces.dropFirst().prefix(3)).allSatisfy { $0.upperBound == $1.lowerBound })
        #expect(pieces.last == (5 * ReadAhead.piece)..<(5 * ReadAhead.piece + 10))
    }

    @Test func aThreadCanPutItsReadsInTheIdleClass() {
        // On a thread of its own: the class is the thread's, and it should not follow the test runner's threads.
        let accepted = Mutex(false)
        let thread = JoinableThread { accepted.withLock { $0 = IOPriority.idle() } }
        thread.join()
        #expect(
            accepted.withLock { $0 }, "ioprio_set(IOPRIO_CLASS_IDLE) was refused: \(String(cString: strerror(errno)))")
    }

    /// `open` reads the section table for its advice before `init` checks it: damage there, on disk, must still
    /// end as a ModelFileError and not as a bad `madvise` or a crash.
    @Test func damagedFilesOnDiskAreErrorsEvenBeforeTheyAreChecked() throws {
        let bert = try TinyBert()
        defer { bert.remove() }
        let bytes = try Quantizer.quantize(directory: bert.directory.path, modelName: "tiny").bytes
        let path = bert.directory.appendingPathComponent("damaged.flint").path
        func opening(_ damaged: [UInt8]) -> Bool {
            FileManager.default.createFile(atPath: path, contents: Data(damaged))
            do {
                _ = try ModelFile.open(path)
                return false
            } catch {
                return true
            }
        }
        func with(_ offset: Int, _ value: UInt64, width: Int = 8) -> [UInt8] {
            var copy = bytes
            for index in 0..<width { copy[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(index))) }
            return copy
        }
        #expect(opening(with(12, 0xFFFF_FFFF, width: 4)), "a section count past the file")
        for section in 0..<4 {
            let entry = 64 + 24 * section
            #expect(opening(with(entry + 8, UInt64.max)), "section \(section): offset past the end")
            #expect(opening(with(entry + 16, UInt64.max)), "section \(section): length past the end")
            #expect(opening(with(entry + 8, UInt64(bytes.count - 64))), "section \(section): offset near the end")
        }
        for length in [64, 65, 64 + 24 * 2 + 3, 1000] {
            #expect(opening(Array(bytes.prefix(length))), "\(length) bytes")
        }
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        #expect(try ModelFile.open(path).tensors.count == bert.weights.count)
    }
}
