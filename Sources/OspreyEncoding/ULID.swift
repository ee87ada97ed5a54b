/// A ULID (Prometheus names block directories by them): 48 bits of Unix milliseconds, then 80
/// random bits, written as 26 characters of Crockford base32, so names sort by creation time.
package struct ULID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The 128 bits, most significant first.
    package let high: UInt64
    package let low: UInt64

    /// A ULID for `timestampMs` with fresh random bits.
    package init(timestampMs: UInt64, using generator: inout some RandomNumberGenerator) {
        let random = (UInt64.random(in: 0...UInt64.max, using: &generator), UInt64.random(in: 0...UInt64.max, using: &generator))
        high = (timestampMs & 0xFFFF_FFFF_FFFF) << 16 | random.0 >> 48
        low = random.1
    }

    /// A ULID for `timestampMs` with system-random bits.
    package init(timestampMs: UInt64) {
        var generator = SystemRandomNumberGenerator()
        self.init(timestampMs: timestampMs, using: &generator)
    }

    /// Parses the 26-character text form (case-insensitive; nil when not a ULID).
    package init?(_ text: String) {
        let characters = Array(text.utf8)
        guard characters.count == 26 else { return nil }
        var high: UInt64 = 0
        var low: UInt64 = 0
        for (index, character) in characters.enumerated() {
            guard let digit = Self.value(of: character), index > 0 || digit < 8 else { return nil }
            // Shift the 128-bit number left by 5 and add the digit.
            high = high << 5 | low >> 59
            low = low << 5 | UInt64(digit)
        }
        self.high = high
        self.low = low
    }

    /// The creation time in Unix milliseconds.
    package var timestampMs: UInt64 { high >> 16 }

    package var description: String {
        var out = [UInt8](repeating: 0, count: 26)
        var (high, low) = (self.high, self.low)
        for index in stride(from: 25, through: 0, by: -1) {
            out[index] = Self.alphabet[Int(low & 0x1F)]
            low = low >> 5 | (high & 0x1F) << 59
            high >>= 5
        }
        return String(decoding: out, as: UTF8.self)
    }

    package static func < (a: ULID, b: ULID) -> Bool {
        (a.high, a.low) < (b.high, b.low)
    }

    private static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)

    private static func value(of character: UInt8) -> UInt8? {
        var upper = character
        if upper >= UInt8(ascii: "a") && upper <= UInt8(ascii: "z") { upper -= 32 }
        return alphabet.firstIndex(of: upper).map(UInt8.init)
    }
}
