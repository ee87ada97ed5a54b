import OspreyIngest
import Testing

struct ExpositionRobustnessTests {
    /// Deterministic xorshift, so that a failure reproduces.
    private struct Random {
        var state: UInt64
        mutating func next(_ bound: Int) -> Int {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return Int(state % UInt64(bound))
        }
    }

    private static let alphabet: [UInt8] = Array("#{}=\",\\ \n\te.+-0123456789abcdefINFnan_:\r".utf8) + [0, 0xFF, 0xC3]

    @Test func mutatedInputNeverCrashesAndErrorsNameARealLine() {
        let seeds = [ExpositionStreamingTests.openMetricsText, ExpositionStreamingTests.prometheusText]
        var random = Random(state: 0x9E37_79B9_7F4A_7C15)
        var errors = 0
        var parsed = 0
        for round in 0..<3000 {
            var bytes = Array(seeds[round % 2].utf8)
            for _ in 0..<(1 + random.next(4)) {
                let position = random.next(bytes.count)
                switch random.next(3) {
                case 0: bytes[position] = Self.alphabet[random.next(Self.alphabet.count)]
                case 1: bytes.remove(at: position)
                default: bytes.insert(Self.alphabet[random.next(Self.alphabet.count)], at: position)
                }
            }
            let lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false).count
            let split = random.next(bytes.count + 1)
            do {
                if round % 2 == 0 {
                    var parser = OpenMetricsParser(Array(bytes[..<split]), isComplete: false, options: .init(validatesFamilies: round % 4 == 0))
                    while try parser.next() != nil {}
                    parser.append(Array(bytes[split...]), isComplete: true)
                    while try parser.next() != nil {}
                } else {
                    var parser = PrometheusTextParser(Array(bytes[..<split]), isComplete: false)
                    while try parser.next() != nil {}
                    parser.append(Array(bytes[split...]), isComplete: true)
                    while try parser.next() != nil {}
                }
                parsed += 1
            } catch {
                errors += 1
                #expect(error.line >= 1 && error.line <= lines + 1, "\(error)")
                #expect(!error.message.isEmpty)
            }
        }
        #expect(errors + parsed == 3000)
        #expect(errors > 0)
    }
}
