import Foundation
import OspreyEncoding
import OspreyIngest
import OspreyModel
import OspreyTSDB

/// Turns an OpenMetrics text file with a timestamp on every sample into TSDB blocks, as
/// `promtool tsdb create-blocks-from openmetrics` does: one block per aligned block range
/// that holds samples, each covering `[first sample, last sample + 1 ms)`.
///
/// The file is read three ways: a validating pass (syntax, `# EOF`, timestamps, per-series
/// order), then as few writing passes as memory allows, each building the blocks of a group
/// of consecutive ranges. Blocks are built in a staging directory inside the output
/// directory and moved into it only when every block was written, so bad input (reported
/// with its file and line) or a failure leaves the output directory as it was.
struct OpenMetricsBackfill {
    /// A backfill failure; `description` names the file and, for bad input, the line.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    let inputPath: String
    let outputDirectory: String
    let blockDurationMs: Int64
    /// Samples held in memory (as compressed chunks) by one writing pass.
    var samplesPerPass = 30_000_000
    var progress: ProgressBar
    /// Samples per chunk, as Prometheus' head cuts them.
    private let samplesPerChunk = 120

    init(inputPath: String, outputDirectory: String, blockDurationMs: Int64, progress: ProgressBar) {
        self.inputPath = inputPath
        self.outputDirectory = outputDirectory
        self.blockDurationMs = blockDurationMs
        self.progress = progress
    }

    /// Validates the input, writes the blocks and returns their metas in time order.
    mutating func run() throws(Failure) -> [BlockMeta] {
        let fileSize = Int64((try? FileManager.default.attributesOfItem(atPath: inputPath)[.size] as? NSNumber)?.int64Value ?? 0)
        progress.start(total: fileSize)
        progress.setStage("checking \(inputPath)")
        let samplesPerRange = try validate()
        let groups = Self.group(samplesPerRange, budget: samplesPerPass)
        progress.start(total: max(1, fileSize * Int64(max(1, groups.count))))

        do {
            try FileManager.default.createDirectory(atPath: outputDirectory, withIntermediateDirectories: true)
        } catch {
            throw Failure(description: "\(outputDirectory): cannot create the output directory: \(error.localizedDescription)")
        }
        let staging = outputDirectory + "/" + ULID(timestampMs: Self.nowMs()).description + BlockWriter.temporarySuffix
        do {
            try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: false)
        } catch {
            throw Failure(description: "\(staging): cannot create the staging directory: \(error.localizedDescription)")
        }
        do {
            var metas: [BlockMeta] = []
            for (number, group) in groups.enumerated() {
                progress.setStage("writing blocks \(number + 1)/\(groups.count)")
                metas += try writeBlocks(ranges: group, into: staging)
            }
            try publish(metas, from: staging)
            progress.finish()
            return metas.sorted { $0.minTime < $1.minTime }
        } catch {
            progress.clear()
            try? FileManager.default.removeItem(atPath: staging)
            throw error
        }
    }

    // MARK: - Passes

    /// The validating pass: every sample parses, has a timestamp and comes after the previous
    /// sample of its series in the same block range. Returns the samples per range index.
    private mutating func validate() throws(Failure) -> [Int64: Int] {
        var counts: [Int64: Int] = [:]
        var last: [Labels: (range: Int64, timestampMs: Int64, valueBits: UInt64)] = [:]
        let duration = blockDurationMs
        let path = inputPath
        try forEachSample { sample, timestampMs, line throws(Failure) in
            let range = Self.floorDivision(timestampMs, duration)
            if let previous = last[sample.labels], previous.range == range {
                try Self.checkOrder(timestampMs: timestampMs, valueBits: sample.value.bitPattern, after: previous.timestampMs, previous.valueBits, labels: sample.labels, line: line, path: path)
            }
            last[sample.labels] = (range, timestampMs, sample.value.bitPattern)
            counts[range, default: 0] += 1
        }
        progress.clear()
        guard !counts.isEmpty else { throw Failure(description: "\(inputPath): no samples to backfill") }
        return counts
    }

    /// One writing pass: builds the blocks of `ranges` (consecutive range indexes) into
    /// `staging`.
    private mutating func writeBlocks(ranges: ClosedRange<Int64>, into staging: String) throws(Failure) -> [BlockMeta] {
        var slots: [SeriesRange: Int] = [:]
        var keys: [SeriesRange] = []
        var builders: [SeriesChunkBuilder] = []
        let duration = blockDurationMs
        let perChunk = samplesPerChunk
        let path = inputPath
        try forEachSample { sample, timestampMs, line throws(Failure) in
            let range = Self.floorDivision(timestampMs, duration)
            guard ranges.contains(range) else { return }
            let key = SeriesRange(labels: sample.labels, range: range)
            let slot: Int
            if let existing = slots[key] {
                slot = existing
            } else {
                slot = builders.count
                slots[key] = slot
                keys.append(key)
                builders.append(SeriesChunkBuilder(samplesPerChunk: perChunk))
            }
            if let previous = builders[slot].last {
                try Self.checkOrder(timestampMs: timestampMs, valueBits: sample.value.bitPattern, after: previous.timestampMs, previous.valueBits, labels: sample.labels, line: line, path: path)
                if timestampMs == previous.timestampMs { return }
            }
            builders[slot].append(timestampMs: timestampMs, value: sample.value)
        }
        slots.removeAll()
        var byRange: [Int64: [(labels: Labels, chunks: [HeadChunk], minTimeMs: Int64, maxTimeMs: Int64)]] = [:]
        for (slot, key) in keys.enumerated() {
            let chunks = builders[slot].finish()
            guard let first = chunks.first, let lastChunk = chunks.last else { continue }
            byRange[key.range, default: []].append((key.labels, chunks, first.minTimeMs, lastChunk.maxTimeMs))
        }
        builders.removeAll()
        var metas: [BlockMeta] = []
        for range in byRange.keys.sorted() {
            guard let members = byRange[range], !members.isEmpty else { continue }
            let minTimeMs = members.map(\.minTimeMs).min() ?? 0
            let maxTimeMs = (members.map(\.maxTimeMs).max() ?? 0) + 1
            let series = members.sorted { $0.labels < $1.labels }.map { BlockWriter.Series(labels: $0.labels, chunks: $0.chunks) }
            do {
                metas.append(try BlockWriter.write(series, minTimeMs: minTimeMs, maxTimeMs: maxTimeMs, into: staging, ulid: ULID(timestampMs: Self.nowMs())))
            } catch {
                throw Failure(description: "\(outputDirectory): cannot write the block for [\(minTimeMs), \(maxTimeMs)): \(error)")
            }
        }
        return metas
    }

    /// Moves the staged blocks into the output directory and removes the staging directory.
    private func publish(_ metas: [BlockMeta], from staging: String) throws(Failure) {
        for meta in metas {
            let name = meta.ulid.description
            guard rename(staging + "/" + name, outputDirectory + "/" + name) == 0 else {
                throw Failure(description: "\(outputDirectory)/\(name): cannot move the block into place: \(String(cString: strerror(errno)))")
            }
        }
        try? FileManager.default.removeItem(atPath: staging)
        let descriptor = open(outputDirectory, O_RDONLY | O_DIRECTORY)
        if descriptor >= 0 {
            _ = fsync(descriptor)
            close(descriptor)
        }
    }

    // MARK: - Reading

    /// Parses the whole file, calling `body` with every sample, its timestamp and its line.
    /// Parse errors, a sample without timestamp and a missing `# EOF` name the line.
    private mutating func forEachSample(_ body: (ExpositionSample, Int64, Int) throws(Failure) -> Void) throws(Failure) {
        guard let handle = FileHandle(forReadingAtPath: inputPath) else {
            throw Failure(description: "\(inputPath): cannot open the file: \(String(cString: strerror(errno)))")
        }
        defer { try? handle.close() }
        var parser = OpenMetricsParser([], isComplete: false, options: .init(validatesFamilies: false))
        var atEnd = false
        while true {
            do {
                while let entry = try parser.next() {
                    guard case .sample(let sample) = entry else { continue }
                    guard let timestampMs = sample.timestampMs else {
                        throw Failure(description: "\(inputPath):\(parser.lineNumber): \(sample.labels.braced) has no timestamp; every sample to backfill needs one")
                    }
                    try body(Self.withoutEmptyLabels(sample), timestampMs, parser.lineNumber)
                }
            } catch let error as ExpositionParseError {
                throw Failure(description: "\(inputPath):\(error.line): \(error.message)" + (error.lineText.isEmpty ? "" : "\n  \(error.lineText)"))
            } catch let error as Failure {
                throw error
            } catch {
                throw Failure(description: "\(inputPath): \(error)")
            }
            if atEnd { break }
            let data: Data
            do {
                data = try handle.read(upToCount: 4 << 20) ?? Data()
            } catch {
                throw Failure(description: "\(inputPath): cannot read the file: \(error.localizedDescription)")
            }
            atEnd = data.isEmpty
            progress.advance(by: Int64(data.count))
            parser.append([UInt8](data), isComplete: atEnd)
        }
        guard parser.isFinished else {
            throw Failure(description: "\(inputPath):\(parser.lineNumber): the input does not end with # EOF")
        }
    }

    // MARK: - Helpers

    private static func checkOrder(timestampMs: Int64, valueBits: UInt64, after previousMs: Int64, _ previousBits: UInt64, labels: Labels, line: Int, path: String) throws(Failure) {
        if timestampMs < previousMs {
            throw Failure(description: "\(path):\(line): out of order sample for \(labels.braced): timestamp \(timestampMs) is before the series' previous sample at \(previousMs)")
        }
        if timestampMs == previousMs && valueBits != previousBits {
            throw Failure(description: "\(path):\(line): duplicate sample for \(labels.braced) at timestamp \(timestampMs) with a different value")
        }
    }

    /// Labels with an empty value are no labels, as in Prometheus' head.
    private static func withoutEmptyLabels(_ sample: ExpositionSample) -> ExpositionSample {
        guard sample.labels.contains(where: { $0.value.isEmpty }) else { return sample }
        var copy = sample
        copy.labels = Labels(sortedUnchecked: sample.labels.filter { !$0.value.isEmpty })
        return copy
    }

    /// Consecutive range indexes grouped so that each group holds at most `budget` samples
    /// (a range larger than the budget is a group of its own).
    static func group(_ samplesPerRange: [Int64: Int], budget: Int) -> [ClosedRange<Int64>] {
        var groups: [ClosedRange<Int64>] = []
        var start: Int64?
        var end: Int64 = 0
        var held = 0
        for range in samplesPerRange.keys.sorted() {
            let count = samplesPerRange[range] ?? 0
            if let first = start, held + count > budget, held > 0 {
                groups.append(first...end)
                start = nil
                held = 0
            }
            if start == nil { start = range }
            end = range
            held += count
        }
        if let first = start { groups.append(first...end) }
        return groups
    }

    static func floorDivision(_ a: Int64, _ b: Int64) -> Int64 {
        let quotient = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? quotient - 1 : quotient
    }

    private static func nowMs() -> UInt64 {
        UInt64(Date().timeIntervalSince1970 * 1000)
    }
}

/// A series within one block range.
private struct SeriesRange: Hashable {
    var labels: Labels
    var range: Int64
}

/// The XOR chunks of one series in one block range, cut every `samplesPerChunk` samples.
private struct SeriesChunkBuilder {
    let samplesPerChunk: Int
    private(set) var last: (timestampMs: Int64, valueBits: UInt64)?
    private var chunks: [HeadChunk] = []
    private var encoder = XORChunkEncoder()
    private var chunkMinTimeMs: Int64 = 0

    init(samplesPerChunk: Int) {
        self.samplesPerChunk = samplesPerChunk
    }

    mutating func append(timestampMs: Int64, value: Double) {
        if encoder.count >= samplesPerChunk { cut() }
        if encoder.count == 0 { chunkMinTimeMs = timestampMs }
        _ = encoder.append(timestampMs: timestampMs, value: value)
        last = (timestampMs, value.bitPattern)
    }

    mutating func finish() -> [HeadChunk] {
        if encoder.count > 0 { cut() }
        return chunks
    }

    private mutating func cut() {
        guard let last else { return }
        chunks.append(HeadChunk(minTimeMs: chunkMinTimeMs, maxTimeMs: last.timestampMs, bytes: encoder.bytes))
        encoder = XORChunkEncoder()
    }
}
