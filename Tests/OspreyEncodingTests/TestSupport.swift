import Foundation
import OspreyEncoding

/// Deterministic SplitMix64 generator so property tests are reproducible.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func bytes(_ count: Int) -> [UInt8] {
        (0..<count).map { _ in UInt8.random(in: 0...255, using: &self) }
    }
}

/// Errors raised by test helpers themselves (not by the code under test).
struct FixtureError: Error, CustomStringConvertible {
    var description: String
}

/// Access to files under `Fixtures/` (copied into the test bundle).
enum Fixtures {
    static func url(_ relativePath: String) throws -> URL {
        guard let root = Bundle.module.url(forResource: "Fixtures", withExtension: nil) else {
            throw FixtureError(description: "Fixtures folder missing from the test bundle")
        }
        return root.appendingPathComponent(relativePath)
    }

    static func bytes(_ relativePath: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: url(relativePath)))
    }

    static func text(_ relativePath: String) throws -> String {
        try String(decoding: Data(contentsOf: url(relativePath)), as: UTF8.self)
    }
}

/// One chunk record of a Prometheus chunk segment file.
struct SegmentChunk {
    var encoding: UInt8
    var data: [UInt8]
    var storedCRC: UInt32
    var computedCRC: UInt32
}

/// Parses a Prometheus `chunks/00000N` segment: magic 0x85BD40DD, version,
/// 3 padding bytes, then records of uvarint length, encoding byte, data and
/// a big-endian CRC32C over encoding byte + data.
func parseChunkSegment(_ segment: [UInt8]) throws -> [SegmentChunk] {
    try segment.withUnsafeBytes { raw throws -> [SegmentChunk] in
        var reader = ByteReader(raw)
        guard try reader.readUInt32BE() == 0x85BD_40DD else {
            throw FixtureError(description: "bad segment magic")
        }
        guard try reader.readUInt8() == 1 else {
            throw FixtureError(description: "unsupported segment version")
        }
        try reader.skip(3)
        var chunks: [SegmentChunk] = []
        while !reader.isAtEnd {
            let length = Int(try reader.readUVarint())
            let encoding = try reader.readUInt8()
            let data = try reader.readBytes(length)
            let stored = try reader.readUInt32BE()
            let computed = CRC32C.update(CRC32C.checksum([encoding]), data)
            chunks.append(SegmentChunk(encoding: encoding, data: Array(data), storedCRC: stored, computedCRC: computed))
        }
        return chunks
    }
}

/// Parses a `.samples` fixture: one "<timestamp ms> <float64 bits hex>" per line.
func parseSamples(_ text: String) throws -> [(timestampMs: Int64, bits: UInt64)] {
    try text.split(separator: "\n").map { line in
        let fields = line.split(separator: " ")
        guard fields.count == 2, let t = Int64(fields[0]), let b = UInt64(fields[1], radix: 16) else {
            throw FixtureError(description: "bad samples line: \(line)")
        }
        return (t, b)
    }
}

/// Names of the XOR chunk fixtures made by real Prometheus (see scripts/gen-encoding-fixtures.py).
let xorFixtureNames = ["basic", "counter", "gauge", "special"]

/// Names of the snappy fixtures made by cramjam (see scripts/gen-encoding-fixtures.py).
let snappyFixtureNames = ["empty", "one-byte", "short-text", "text", "random", "repetitive", "runs", "large-mixed"]
