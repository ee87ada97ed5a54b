/// What the parsers' `nextDeferringSeries()` returns: a metadata line, or a sample line whose
/// series (metric name and labels) is delimited but not parsed yet.
///
/// This is how a scrape skips the labels of series it has seen before, as Prometheus' scrape
/// cache does: the caller looks the series up by its raw bytes (`withCurrentSeriesBytes`) and
/// parses them (`currentSeries()`) only when they are new.
package enum ExpositionDeferredEntry: Sendable {
    /// A sample line: its value, timestamp and exemplar, parsed and checked.
    case sample(value: Double, timestampMs: Int64?, exemplar: ExpositionExemplar?)
    /// A metadata line (`# TYPE`, `# HELP`, `# UNIT`).
    case metadata(ExpositionEntry)
}

/// The sample line a parser's `nextDeferringSeries()` returned last.
struct ExpositionCurrentSample {
    /// The line, without its line feed.
    var line = 0..<0
    var number = 0
    /// Start of the metric name.
    var start = 0
    /// End of the metric name.
    var nameEnd = 0
    /// End of the series bytes (after the label set's `}`). Equal to `start` when the line
    /// could only be delimited by parsing it in full: its bytes are then not to be cached.
    var seriesEnd = 0
    /// The sample, when the parser had to parse it in full anyway.
    var parsed: ExpositionSample?

    /// Calls `body` with the series bytes in `input`.
    func withSeriesBytes<R>(in input: ExpositionInput, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        let range = start..<seriesEnd
        return input.bytes.withUnsafeBufferPointer { body(UnsafeBufferPointer(rebasing: $0[range])) }
    }

    /// The sample's family by the TYPE lines `resolver` has seen.
    func family(in input: ExpositionInput, cache: inout ExpositionStringCache, resolver: inout ExpositionFamilyResolver) -> String {
        if let parsed { return parsed.family }
        let range = start..<nameEnd
        let name = input.bytes.withUnsafeBufferPointer { cache.string($0, range) } ?? ""
        return resolver.resolve(name).family
    }
}

/// A parser that can hand out sample lines with their series deferred (both exposition
/// parsers), so that a caller can be generic over the format without copying the parser.
package protocol ExpositionSeriesDeferringParser {
    /// The next metadata line or sample line, its series only delimited.
    mutating func nextDeferringSeries() throws(ExpositionParseError) -> ExpositionDeferredEntry?
    /// Calls `body` with the series bytes of the last sample line (empty: not to be cached).
    func withCurrentSeriesBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) -> R
    /// The last sample line, parsed and checked in full.
    mutating func currentSeries() throws(ExpositionParseError) -> ExpositionSample
    /// The family of the last sample line.
    mutating func currentFamily() -> String
}

extension PrometheusTextParser: ExpositionSeriesDeferringParser {}
extension OpenMetricsParser: ExpositionSeriesDeferringParser {}
