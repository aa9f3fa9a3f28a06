/// AWS's `application/vnd.amazon.eventstream` framing, as `InvokeWithResponseStream` answers: each message is a
/// prelude (total length, headers length, CRC-32 of those 8 bytes), string headers, the payload and a CRC-32 of
/// everything before it, all big-endian.
enum EventStream {
    /// One event message: `:message-type: event`, `:event-type`, `:content-type`, then `payload`.
    static func event(_ type: String, contentType: String, payload: [UInt8]) -> [UInt8] {
        var headers: [UInt8] = []
        for (name, value) in [(":event-type", type), (":content-type", contentType), (":message-type", "event")] {
            headers.append(UInt8(name.utf8.count))
            headers.append(contentsOf: name.utf8)
            headers.append(7)  // string
            headers.append(UInt8(value.utf8.count >> 8))
            headers.append(UInt8(value.utf8.count & 0xFF))
            headers.append(contentsOf: value.utf8)
        }
        let total = 12 + headers.count + payload.count + 4
        var message: [UInt8] = []
        message.reserveCapacity(total)
        append(UInt32(total), to: &message)
        append(UInt32(headers.count), to: &message)
        append(crc32(message), to: &message)
        message += headers
        message += payload
        append(crc32(message), to: &message)
        return message
    }

    private static func append(_ value: UInt32, to bytes: inout [UInt8]) {
        bytes += [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }

    private static let table: [UInt32] = (0..<256).map { index in
        var value = UInt32(index)
        for _ in 0..<8 { value = value & 1 == 1 ? 0xEDB8_8320 ^ (value >> 1) : value >> 1 }
        return value
    }

    /// CRC-32 (IEEE 802.3, as zlib computes it).
    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }
}
