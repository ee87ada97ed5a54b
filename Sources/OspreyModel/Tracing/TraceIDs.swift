/// A 128-bit trace ID. Legacy Jaeger and Zipkin clients use 64-bit IDs: their high half is zero.
package struct TraceID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The first 8 bytes, big-endian.
    package var high: UInt64
    /// The last 8 bytes, big-endian.
    package var low: UInt64

    /// An ID from its halves.
    package init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// An ID from 16 bytes (or 8, for a 64-bit ID); nil for other lengths.
    package init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 16 || bytes.count == 8 else { return nil }
        var words: [UInt64] = [0, 0]
        var index = bytes.count == 8 ? 8 : 0
        for byte in bytes {
            words[index / 8] = words[index / 8] << 8 | UInt64(byte)
            index += 1
        }
        high = words[0]
        low = words[1]
    }

    /// An ID from 32 hex digits, or fewer (at most 32; Jaeger's 16-digit IDs and shorter
    /// strings are left-padded with zeros); nil for anything else.
    package init?(hex: some StringProtocol) {
        let digits = Array(hex.utf8)
        guard !digits.isEmpty, digits.count <= 32 else { return nil }
        var high: UInt64 = 0
        var low: UInt64 = 0
        for digit in digits {
            guard let value = hexValue(digit) else { return nil }
            high = high << 4 | low >> 60
            low = low << 4 | UInt64(value)
        }
        self.high = high
        self.low = low
    }

    /// Whether the ID is all zeros (invalid in OTLP).
    package var isZero: Bool { high == 0 && low == 0 }

    /// The 16 bytes, big-endian.
    package var bytes: [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: high >> UInt64(56 - 8 * $0)) } + (0..<8).map { UInt8(truncatingIfNeeded: low >> UInt64(56 - 8 * $0)) }
    }

    /// 32 lowercase hex digits.
    package var hex: String { hexDigits(high, 16) + hexDigits(low, 16) }

    package var description: String { hex }

    package static func < (lhs: TraceID, rhs: TraceID) -> Bool {
        (lhs.high, lhs.low) < (rhs.high, rhs.low)
    }
}

/// A 64-bit span ID.
package struct SpanID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The 8 bytes, big-endian.
    package var raw: UInt64

    /// An ID from its bits.
    package init(_ raw: UInt64) {
        self.raw = raw
    }

    /// An ID from 8 bytes; nil for other lengths.
    package init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 8 else { return nil }
        raw = bytes.reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// An ID from at most 16 hex digits (left-padded with zeros).
    package init?(hex: some StringProtocol) {
        let digits = Array(hex.utf8)
        guard !digits.isEmpty, digits.count <= 16 else { return nil }
        var raw: UInt64 = 0
        for digit in digits {
            guard let value = hexValue(digit) else { return nil }
            raw = raw << 4 | UInt64(value)
        }
        self.raw = raw
    }

    /// Whether the ID is all zeros (invalid in OTLP; "no parent" in a parent field).
    package var isZero: Bool { raw == 0 }

    /// The 8 bytes, big-endian.
    package var bytes: [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: raw >> UInt64(56 - 8 * $0)) } }

    /// 16 lowercase hex digits.
    package var hex: String { hexDigits(raw, 16) }

    package var description: String { hex }

    package static func < (lhs: SpanID, rhs: SpanID) -> Bool { lhs.raw < rhs.raw }
}

private func hexValue(_ digit: UInt8) -> UInt8? {
    switch digit {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return digit - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return digit - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): return digit - UInt8(ascii: "A") + 10
    default: return nil
    }
}

private func hexDigits(_ value: UInt64, _ count: Int) -> String {
    let table = Array("0123456789abcdef".utf8)
    var out = [UInt8](repeating: 0, count: count)
    var rest = value
    for index in stride(from: count - 1, through: 0, by: -1) {
        out[index] = table[Int(rest & 0xF)]
        rest >>= 4
    }
    return String(decoding: out, as: UTF8.self)
}
