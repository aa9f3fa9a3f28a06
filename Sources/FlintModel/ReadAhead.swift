import FlintSystem

#if canImport(Glibc)
import Glibc
#endif

/// Reads ranges of a file mapping into memory ahead of the first pass, in order, from a thread of its own, keeping
/// only a little queued at the disk at a time.
///
/// All of it asked for at once (one `MADV_WILLNEED` per range) put ~11 MB in the disk's queue in front of
/// whatever the process needed next: on the VM measured, whose disk serves one request of ~1 MB at a time, the
/// first text's word-embedding rows waited ~3 ms behind the layers, and the first pass could not begin until every
/// layer was read. Here a piece is asked for once the one ``ahead`` before it has arrived (`MADV_POPULATE_READ`
/// waits for it, and maps its pages, which spares the first pass those page faults), so at most three pieces wait
/// ahead of a page fault or another advice (two left the disk idle for ~0.5 ms at a time when the thread was
/// scheduled late: 0.3–1.0 ms slower cold starts); the pass starts as soon as its rows are in and computes each
/// layer as it arrives. Advice only: where the kernel lacks `MADV_POPULATE_READ` (before Linux 5.14) nothing waits
/// and the whole of it is asked for at once, as before.
enum ReadAhead {
    /// The unit asked for at a time: about one request of the disk measured (254 segments of a 4 KB page).
    static let piece = 1 << 20

    /// Starts reading `ranges` (byte offsets into `mapping`, in the order given) and returns at once: the first
    /// ``ahead`` pieces are asked for here, so the disk has work before the thread is scheduled (which took up to
    /// 1.5 ms while the caller kept its core). `owner` keeps the mapping alive until the thread is done with it.
    static func start(_ ranges: [Range<Int>], in mapping: UnsafeMutableRawPointer, owner: some AnyObject & Sendable) {
        let pieces = Self.pieces(ranges)
        guard !pieces.isEmpty else { return }
        for piece in pieces.prefix(ahead) { askFor(piece, in: mapping) }
        let address = Int(bitPattern: mapping)
        startDetachedThread {
            // Behind the process's own page faults (a first text's word-embedding rows) where the scheduler
            // honours classes: mq-deadline, left to itself, served the next piece of this ascending stream before
            // rows that lie further on in the file, however long they had waited.
            IOPriority.idle()
            withExtendedLifetime(owner) {
                read(pieces, at: UnsafeMutableRawPointer(bitPattern: address)!)
            }
        }
    }

    /// Asks the kernel to read `ranges` now (`MADV_WILLNEED`, a piece at a time) and returns at once: for what the
    /// caller reads next, such as a model's index. Linux reads ahead at most the device's largest request per call
    /// (`force_page_cache_ra`), so one call over a longer range would leave its end to page faults.
    static func askFor(_ ranges: [Range<Int>], in mapping: UnsafeMutableRawPointer) {
        for piece in pieces(ranges) { askFor(piece, in: mapping) }
    }

    private static func askFor(_ piece: Range<Int>, in mapping: UnsafeMutableRawPointer) {
        _ = madvise(mapping + piece.lowerBound, piece.count, MADV_WILLNEED)
    }

    /// `ranges` cut into page-aligned pieces of at most ``piece`` bytes.
    static func pieces(_ ranges: [Range<Int>]) -> [Range<Int>] {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        var pieces: [Range<Int>] = []
        for range in ranges where !range.isEmpty {
            var start = range.lowerBound / page * page
            while start < range.upperBound {
                let end = min(range.upperBound, start + piece)
                pieces.append(start..<end)
                start = end
            }
        }
        return pieces
    }

    /// Pieces asked for and not yet waited for, at most.
    private static let ahead = 3

    /// Asks for the pieces after the first ``ahead`` (which `start` asked for), each once the one ``ahead`` before
    /// it has arrived.
    private static func read(_ pieces: [Range<Int>], at mapping: UnsafeMutableRawPointer) {
        for index in pieces.indices {
            populate(pieces[index], at: mapping)
            if index + ahead < pieces.count {
                askFor(pieces[index + ahead], in: mapping)
            }
        }
    }

    /// Waits for `piece`'s pages and maps them (a failure, such as an old kernel's EINVAL, only ends the pacing).
    private static func populate(_ piece: Range<Int>, at mapping: UnsafeMutableRawPointer) {
        // MADV_POPULATE_READ (Linux 5.14); Glibc's headers name it only from 2.35.
        _ = madvise(mapping + piece.lowerBound, piece.count, 22)
    }
}
