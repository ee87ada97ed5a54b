import ArgumentParser
import Foundation
import Logging
import OspreyEncoding
import OspreyModel
import OspreyPromQLParser
import OspreyStorage
import OspreyTSDB

struct TSDBCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tsdb",
        abstract: "Inspect a data directory (Osprey's or Prometheus'), as promtool tsdb does.",
        subcommands: [TSDBList.self, TSDBAnalyze.self, TSDBDump.self, TSDBCreateBlocksFrom.self]
    )
}

struct TSDBList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the blocks of a data directory.")

    @Flag(name: [.customShort("r"), .long], help: "Print human-readable times and sizes.")
    var humanReadable = false

    @Argument(help: "The data directory.")
    var directory = "data"

    func run() throws {
        let tsdb = try openReadOnly(directory)
        var table = BlockTable(humanReadable: humanReadable)
        for block in tsdb.loadedBlocks {
            table.add(block.meta, sizeBytes: TSDB.size(of: block.directory))
        }
        print(table.rendered(), terminator: "")
    }
}

/// The block table of `promtool tsdb list` (and of create-blocks-from): one row per block.
struct BlockTable {
    let humanReadable: Bool
    private var rows = [["BLOCK ULID", "MIN TIME", "MAX TIME", "DURATION", "NUM SAMPLES", "NUM CHUNKS", "NUM SERIES", "SIZE"]]

    init(humanReadable: Bool) {
        self.humanReadable = humanReadable
    }

    mutating func add(_ meta: BlockMeta, sizeBytes: Int64) {
        rows.append([
            meta.ulid.description, time(meta.minTime), time(meta.maxTime), PrometheusDuration.format(milliseconds: meta.maxTime - meta.minTime),
            "\(meta.stats.numSamples ?? 0)", "\(meta.stats.numChunks ?? 0)", "\(meta.stats.numSeries ?? 0)", size(sizeBytes),
        ])
    }

    /// The rows in aligned columns, one line each.
    func rendered() -> String {
        let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ").trimmingCharacters(in: .whitespaces) + "\n"
        }.joined()
    }

    private func time(_ ms: Int64) -> String {
        guard humanReadable else { return String(ms) }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }

    private func size(_ bytes: Int64) -> String {
        guard humanReadable else { return String(bytes) }
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(bytes) B" : String(format: "%.1f %@", value, units[unit])
    }
}

struct TSDBAnalyze: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "analyze",
        abstract: "Show the cardinality of a block (the newest when none is named), as promtool tsdb analyze does."
    )

    @Option(help: "How many items to list in each top list.")
    var limit = 20

    @Argument(help: "The data directory.")
    var directory = "data"

    @Argument(help: "The block's ULID (default: the newest block).")
    var block: String?

    func run() throws {
        let tsdb = try openReadOnly(directory)
        let blocks = tsdb.loadedBlocks
        guard let chosen = block.map({ id in blocks.first { $0.meta.ulid == id } }) ?? blocks.max(by: { $0.meta.maxTime < $1.meta.maxTime }) else {
            throw ValidationError(block.map { "\(directory): no block \($0)" } ?? "\(directory): no blocks")
        }
        let analysis: BlockAnalysis
        do {
            analysis = try chosen.analysis(limit: limit)
        } catch {
            throw ValidationError("\(chosen.directory): \(error)")
        }
        print("Block ID: \(chosen.meta.ulid)")
        print("Duration: \(PrometheusDuration.format(milliseconds: chosen.meta.maxTime - chosen.meta.minTime))")
        print("Series: \(analysis.series)")
        print("Label names: \(analysis.labelNames)")
        print("Postings (unique label pairs): \(analysis.uniqueLabelPairs)")
        print("Postings entries (total label pairs): \(analysis.totalLabelPairs)")
        for (title, list) in [
            ("Label pairs most involved in churning", analysis.churningLabelPairs), ("Label names most involved in churning", analysis.churningLabelNames),
            ("Most common label pairs", analysis.mostCommonLabelPairs),
            ("Label names with highest cumulative label value length", analysis.longestLabelValues),
            ("Highest cardinality labels", analysis.highestCardinalityLabels),
            ("Highest cardinality metric names", analysis.highestCardinalityMetricNames),
        ] {
            print("\n\(title):")
            for (name, count) in list { print("\(count) \(name)") }
        }
    }
}

struct TSDBDump: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dump",
        abstract: "Print every sample of a data directory's blocks and head as `{labels} value timestamp`."
    )

    @Option(name: .customLong("min-time"), help: "Earliest sample time, Unix milliseconds.")
    var minTime = Int64.min

    @Option(name: .customLong("max-time"), help: "Latest sample time, Unix milliseconds.")
    var maxTime = Int64.max

    @Option(name: .customLong("match"), help: "Series selector (default: every series).")
    var match = "{__name__=~\".+\"}"

    @Argument(help: "The data directory.")
    var directory = "data"

    func run() throws {
        let matchers: [LabelMatcher]
        do {
            matchers = try SeriesSelectorParser.parse(match)
        } catch {
            throw ValidationError("--match \(match): \(error)")
        }
        let tsdb = try openReadOnly(directory)
        let querier = try tsdb.querier(minTimeMs: minTime, maxTimeMs: maxTime)
        defer { querier.close() }
        let set = try querier.select(sorted: true, hints: SelectHints(startMs: minTime, endMs: maxTime), matchers: matchers)
        var output = ""
        var samples: [Sample] = []
        while let series = try set.next() {
            let labels = series.labels.braced
            samples.removeAll(keepingCapacity: true)
            series.appendFloats(to: &samples)
            for sample in samples where sample.timestampMs >= minTime && sample.timestampMs <= maxTime {
                output += "\(labels) \(GoFloatFormat.g(sample.value)) \(sample.timestampMs)\n"
                if output.utf8.count > 1 << 16 {
                    FileHandle.standardOutput.write(Data(output.utf8))
                    output = ""
                }
            }
        }
        FileHandle.standardOutput.write(Data(output.utf8))
    }
}

/// The directory opened for reading only; errors name it.
private func openReadOnly(_ directory: String) throws -> TSDB {
    var logger = Logger(label: "osprey.tsdb")
    logger.logLevel = .error
    do {
        return try TSDB.openReadOnly(directory: directory, logger: logger)
    } catch {
        throw ValidationError("\(directory): \(error)")
    }
}
