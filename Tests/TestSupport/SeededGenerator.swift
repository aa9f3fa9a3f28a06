import FlintSystem

#if canImport(Glibc)
import Glibc
#endif

/// A reproducible random generator for fuzz-like tests (``SplitMix64``). Each run draws a new seed, or takes
/// `FLINT_TEST_SEED`, and prints it, so a failure it finds can be replayed with that seed.
public struct SeededGenerator: RandomNumberGenerator {
    /// The seed this generator started from.
    public let seed: UInt64
    private var stream: SplitMix64

    /// A generator for the test `name`: seeded from `FLINT_TEST_SEED` when set, else from the clock; the seed is
    /// printed either way.
    public init(test name: String) {
        if let text = getenv("FLINT_TEST_SEED").map({ String(cString: $0) }), let seed = UInt64(text) {
            self.init(seed: seed)
        } else {
            var now = timespec()
            clock_gettime(CLOCK_REALTIME, &now)
            self.init(seed: UInt64(now.tv_sec) &* 1_000_000_007 &+ UInt64(now.tv_nsec))
        }
        print("\(name): random seed \(seed) (replay with FLINT_TEST_SEED=\(seed))")
    }

    /// A generator starting from `seed`.
    public init(seed: UInt64) {
        self.seed = seed
        stream = SplitMix64(seed: seed)
    }

    public mutating func next() -> UInt64 { stream.next() }
}
