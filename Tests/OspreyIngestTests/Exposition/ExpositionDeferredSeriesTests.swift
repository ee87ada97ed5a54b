import OspreyIngest
import OspreyModel
import Testing

/// `nextDeferringSeries()` with `currentSeries()` must give exactly what `next()` gives, errors
/// included; the series bytes must delimit name and labels.
struct ExpositionDeferredSeriesTests {
    private enum Format { case text, openMetrics(validating: Bool) }

    /// Every entry (rendered) and the error, parsing with `next()`.
    private func parsed(_ bytes: [UInt8], _ format: Format) -> ([String], ExpositionParseError?) {
        var out: [String] = []
        do {
            switch format {
            case .text:
                var parser = PrometheusTextParser(bytes, isComplete: true)
                while let entry = try parser.next() { out.append(render(entry)) }
            case .openMetrics(let validating):
                var parser = OpenMetricsParser(bytes, isComplete: true, options: .init(validatesFamilies: validating))
                while let entry = try parser.next() { out.append(render(entry)) }
            }
            return (out, nil)
        } catch {
            return (out, error)
        }
    }

    /// The same, with `nextDeferringSeries()` and `currentSeries()` for every sample; also
    /// checks the deferred value, timestamp and exemplar and the series bytes against it.
    private func deferred(_ bytes: [UInt8], _ format: Format) -> ([String], ExpositionParseError?, [String]) {
        var out: [String] = []
        var keys: [String] = []
        func record(_ entry: ExpositionDeferredEntry?, series: () throws(ExpositionParseError) -> ExpositionSample, key: String, family: String) throws(ExpositionParseError) -> Bool {
            guard let entry else { return false }
            switch entry {
            case .metadata(let metadata):
                out.append(render(metadata))
            case .sample(let value, let timestampMs, let exemplar):
                let sample = try series()
                #expect(sample.value.bitPattern == value.bitPattern)
                #expect(sample.timestampMs == timestampMs)
                #expect(sample.exemplar == exemplar)
                #expect(sample.family == family)
                out.append(render(.sample(sample)))
                keys.append(key)
            }
            return true
        }
        do {
            switch format {
            case .text:
                var parser = PrometheusTextParser(bytes, isComplete: true)
                while try record(
                    parser.nextDeferringSeries(), series: { () throws(ExpositionParseError) in try parser.currentSeries() },
                    key: parser.withCurrentSeriesBytes { String(decoding: $0, as: UTF8.self) }, family: parser.currentFamily())
                {}
            case .openMetrics(let validating):
                var parser = OpenMetricsParser(bytes, isComplete: true, options: .init(validatesFamilies: validating))
                while try record(
                    parser.nextDeferringSeries(), series: { () throws(ExpositionParseError) in try parser.currentSeries() },
                    key: parser.withCurrentSeriesBytes { String(decoding: $0, as: UTF8.self) }, family: parser.currentFamily())
                {}
            }
            return (out, nil, keys)
        } catch {
            return (out, error, keys)
        }
    }

    @Test func seriesBytesAreNameAndLabelsAsWritten() {
        let text = "a 1\nb{x=\"}\\\"{\"} 2 3\nc {y=\"1\", } 4\n"
        let (entries, error, keys) = deferred(Array(text.utf8), .text)
        #expect(error == nil)
        #expect(entries.count == 3)
        #expect(keys == ["a", "b{x=\"}\\\"{\"}", "c {y=\"1\", }"])
        let openMetrics = "# TYPE b counter\nb_total{x=\"}\"} 2 # {t=\"1\"} 1\na 1\n# EOF\n"
        let (_, omError, omKeys) = deferred(Array(openMetrics.utf8), .openMetrics(validating: false))
        #expect(omError == nil)
        #expect(omKeys == ["b_total{x=\"}\"}", "a"])
    }

    @Test func familiesFollowTypeLinesWithoutParsingTheSeries() throws {
        var parser = PrometheusTextParser(Array("# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_count 1\nh_other 2\n".utf8), isComplete: true)
        var families: [String] = []
        while let entry = try parser.nextDeferringSeries() {
            if case .sample = entry { families.append(parser.currentFamily()) }
        }
        #expect(families == ["h", "h", "h_other"])
    }

    @Test func seedsAndMutationsGiveTheSameEntriesAndErrorsAsNext() {
        let seeds = [ExpositionStreamingTests.openMetricsText, ExpositionStreamingTests.prometheusText]
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        func random(_ bound: Int) -> Int {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return Int(state % UInt64(bound))
        }
        let alphabet: [UInt8] = Array("#{}=\",\\ \n\te.+-0123456789abcdefINFnan_:\r".utf8) + [0, 0xFF, 0xC3]
        var errors = 0
        for round in 0..<3000 {
            var bytes = Array(seeds[round % 2].utf8)
            if round >= 6 {
                for _ in 0..<(1 + random(4)) {
                    let position = random(bytes.count)
                    switch random(3) {
                    case 0: bytes[position] = alphabet[random(alphabet.count)]
                    case 1: bytes.remove(at: position)
                    default: bytes.insert(alphabet[random(alphabet.count)], at: position)
                    }
                }
            }
            let format: Format = round % 2 == 1 ? .text : .openMetrics(validating: round % 4 == 0)
            let (expected, expectedError) = parsed(bytes, format)
            let (got, gotError, _) = deferred(bytes, format)
            #expect(got == expected, "round \(round)")
            #expect(gotError == expectedError, "round \(round)")
            if expectedError != nil { errors += 1 }
        }
        #expect(errors > 100)
    }
}
