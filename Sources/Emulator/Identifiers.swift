import FlintSystem
import Foundation

/// Request ids and X-Ray trace ids, from a SplitMix64 stream seeded once from the system generator.
///
/// They must be unique and well-shaped, not unpredictable; drawing each hex digit from the system generator cost
/// dozens of `getrandom` calls per invocation. Confined to the emulator's event loop, like its owner.
struct Identifiers {
    private var stream: SplitMix64

    init() {
        var system = SystemRandomNumberGenerator()
        stream = SplitMix64(seed: system.next())
    }

    private mutating func next() -> UInt64 { stream.next() }

    private static let digits = Array("0123456789abcdef".utf8)

    private static func hex(_ value: UInt64, count: Int, into out: inout [UInt8]) {
        for shift in stride(from: (count - 1) * 4, through: 0, by: -4) {
            out.append(digits[Int((value >> UInt64(shift)) & 0xF)])
        }
    }

    /// A version-4-shaped UUID in lower case: `xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx`.
    mutating func requestID() -> String {
        let high = next(), low = next()
        var out: [UInt8] = []
        out.reserveCapacity(36)
        Self.hex(high >> 32, count: 8, into: &out)
        out.append(UInt8(ascii: "-"))
        Self.hex((high >> 16) & 0xFFFF, count: 4, into: &out)
        out.append(UInt8(ascii: "-"))
        Self.hex(0x4000 | (high & 0x0FFF), count: 4, into: &out)
        out.append(UInt8(ascii: "-"))
        Self.hex(0x8000 | ((low >> 48) & 0x3FFF), count: 4, into: &out)
        out.append(UInt8(ascii: "-"))
        Self.hex(low & 0xFFFF_FFFF_FFFF, count: 12, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// `Root=1-<epoch seconds, 8 hex>-<24 hex>;Parent=<16 hex>;Sampled=0`, the X-Ray header shape.
    mutating func traceID() -> String {
        var out = Array("Root=1-".utf8)
        Self.hex(UInt64(Date().timeIntervalSince1970) & 0xFFFF_FFFF, count: 8, into: &out)
        out.append(UInt8(ascii: "-"))
        Self.hex(next() & 0xFFFF_FFFF, count: 8, into: &out)
        Self.hex(next(), count: 16, into: &out)
        out.append(contentsOf: ";Parent=".utf8)
        Self.hex(next(), count: 16, into: &out)
        out.append(contentsOf: ";Sampled=0".utf8)
        return String(decoding: out, as: UTF8.self)
    }
}
