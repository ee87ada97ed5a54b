import ArgumentParser
import Foundation
import OspreyModel
import OspreyTSDB

struct TSDBCreateBlocksFrom: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create-blocks-from",
        abstract: "Create blocks from other data (backfill), as promtool tsdb create-blocks-from does.",
        subcommands: [TSDBCreateBlocksFromOpenMetrics.self]
    )
}

struct TSDBCreateBlocksFromOpenMetrics: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "openmetrics",
        abstract: "Backfill an OpenMetrics text file (a timestamp on every sample, ending with # EOF) into blocks in DIR.",
        discussion: """
            Samples are grouped into blocks by aligned block range (2h, or the largest of 2h×3ⁿ that \
            fits --max-block-duration). The input is checked in full before anything is written; an \
            error names the file and line. Start Osprey (or Prometheus) on DIR, or move the blocks \
            into a data directory: overlapping blocks are merged by compaction.
            """
    )

    @Option(name: .customLong("max-block-duration"), help: "The longest block to create, e.g. 2h, 1d.")
    var maxBlockDuration = "2h"

    @Flag(name: [.customShort("r"), .customLong("human-readable")], help: "Print human-readable times and sizes.")
    var humanReadable = false

    @Flag(name: [.customShort("q"), .long], help: "Print neither the created blocks nor a progress bar.")
    var quiet = false

    @Argument(help: "The OpenMetrics input file.")
    var input: String

    @Argument(help: "The output directory.")
    var outputDirectory = "data"

    func run() throws {
        guard let maxDurationMs = PrometheusDuration.parseMilliseconds(maxBlockDuration), maxDurationMs > 0 else {
            throw ValidationError("--max-block-duration \(maxBlockDuration): not a duration (e.g. 2h, 1d)")
        }
        var backfill = OpenMetricsBackfill(
            inputPath: input, outputDirectory: outputDirectory,
            blockDurationMs: Self.blockDuration(maxDurationMs: maxDurationMs),
            progress: quiet ? ProgressBar(enabled: false) : ProgressBar()
        )
        let metas: [BlockMeta]
        do {
            metas = try backfill.run()
        } catch {
            FileHandle.standardError.write(Data("osprey: \(error.description)\n".utf8))
            throw ExitCode.failure
        }
        guard !quiet else { return }
        var table = BlockTable(humanReadable: humanReadable)
        for meta in metas {
            table.add(meta, sizeBytes: TSDB.size(of: outputDirectory + "/" + meta.ulid.description))
        }
        print(table.rendered(), terminator: "")
    }

    /// The block duration for a maximum, as promtool picks it: 2h, or the largest of
    /// 2h×3ⁿ (n < 10) not above the maximum.
    static func blockDuration(maxDurationMs: Int64) -> Int64 {
        let base: Int64 = 2 * 3_600_000
        var chosen = base
        var candidate = base
        for _ in 1..<10 {
            candidate *= 3
            guard candidate <= maxDurationMs else { break }
            chosen = candidate
        }
        return chosen
    }
}
