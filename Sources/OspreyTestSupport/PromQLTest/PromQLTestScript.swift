package import OspreyModel

/// A parsed promqltest script (`../shared/conformance/promql/FORMAT.md`): `load`, `eval` and
/// `clear` commands in file order.
package struct PromQLTestScript: Sendable {
    /// One command.
    package enum Command: Sendable {
        case clear(line: Int)
        case load(LoadCommand)
        case eval(EvalCommand)
    }

    /// `load <interval>` with its series.
    package struct LoadCommand: Sendable {
        /// Header line.
        package var line: Int
        /// Spacing of the positions.
        package var intervalMs: Int64
        /// `load_with_nhcb`.
        package var withNHCB: Bool
        /// Series and their positions; a later line for the same labels replaces an earlier one.
        package var series: [(labels: Labels, values: [SequenceValue])]
        /// Set when the block uses syntax this runner does not load (start timestamps).
        package var unsupported: String?
        /// Metric names that have `@st` start-timestamp lines in this block.
        package var startTimestampMetrics: Set<String> = []
    }

    /// What an eval expects besides its result lines.
    package struct Expectations: Sendable {
        /// `expect fail` (or `eval_fail`), with an exact message or a regex.
        package var fail: (message: String?, regex: String?)?
        /// `expect warn` lines (nil text: any warning) and whether warnings must be absent.
        package var warnings: [String?] = []
        /// `expect no_warn`.
        package var noWarnings = false
        /// `expect info` lines.
        package var infos: [String?] = []
        /// `expect no_info`.
        package var noInfos = false
        /// `expect ordered`.
        package var ordered = false
        /// `expect range vector from … to … step …` (ms).
        package var rangeVector: (startMs: Int64, endMs: Int64, stepMs: Int64)?
        /// `expect string "…"`.
        package var string: String?
    }

    /// `eval instant at …` or `eval range from … to … step …`.
    package struct EvalCommand: Sendable {
        /// Query kind and times in ms.
        package enum Kind: Sendable {
            case instant(atMs: Int64)
            case range(startMs: Int64, endMs: Int64, stepMs: Int64)
        }

        /// Header line.
        package var line: Int
        /// The query.
        package var expr: String
        /// Instant or range.
        package var kind: Kind
        /// `expect` lines and deprecated equivalents.
        package var expectations = Expectations()
        /// Expected series.
        package var series: [(labels: Labels, values: [SequenceValue])] = []
        /// An expected scalar result.
        package var scalar: Double?
    }

    /// The commands.
    package var commands: [Command]

    /// Parses a script; throws with the line of the first problem.
    package static func parse(_ text: String) throws(PromQLTestScriptError) -> PromQLTestScript {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> Substring in
            let trimmed = line.drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" || $0 == "\r" })
            return Substring(String(trimmed.reversed()))
        }
        // A comment line is an empty line: it ends the block it is in.
        lines = lines.map { $0.hasPrefix("#") ? "" : $0 }
        var commands: [Command] = []
        var index = 0
        while index < lines.count {
            let line = lines[index]
            let number = index + 1
            index += 1
            guard !line.isEmpty else { continue }
            let word = line.prefix(while: { $0 != " " && $0 != "\t" }).lowercased()
            var body: [(Int, Substring)] = []
            func readBody(stopAtScalar: Bool) {
                while index < lines.count, !lines[index].isEmpty {
                    body.append((index + 1, lines[index]))
                    index += 1
                    if stopAtScalar, let last = body.last?.1, isBodyTerminator(last) { return }
                }
            }
            if word == "clear" {
                commands.append(.clear(line: number))
            } else if word.hasPrefix("load") {
                readBody(stopAtScalar: false)
                commands.append(.load(try parseLoad(line, number, body)))
            } else if word.hasPrefix("eval") {
                readBody(stopAtScalar: true)
                commands.append(.eval(try EvalParsing.parse(line, number, body)))
            } else {
                throw PromQLTestScriptError(line: number, message: "unknown command \"\(word)\"")
            }
        }
        return PromQLTestScript(commands: commands)
    }

    private static func isBodyTerminator(_ line: Substring) -> Bool {
        line.hasPrefix("expected_fail_message") || line.hasPrefix("expected_fail_regexp")
            || (!line.contains(" ") && SeriesNotation.number(line) != nil)
    }

    private static func parseLoad(_ header: Substring, _ number: Int, _ body: [(Int, Substring)]) throws(PromQLTestScriptError) -> LoadCommand {
        let words = header.split(separator: " ", omittingEmptySubsequences: true)
        guard words.count == 2, let interval = PrometheusDuration.parseMilliseconds(String(words[1])) else {
            throw PromQLTestScriptError(line: number, message: "invalid load header \"\(header)\"")
        }
        var load = LoadCommand(line: number, intervalMs: interval, withNHCB: words[0] == "load_with_nhcb", series: [], unsupported: nil)
        for (line, text) in body {
            let (descriptor, values) = SeriesNotation.splitDescriptor(text)
            if descriptor.hasSuffix("@st") {
                load.unsupported = "start timestamps (@st)"
                let bare = descriptor.dropLast(3)
                if let name = try? SeriesNotation.labels(bare, line: line).metricName { load.startTimestampMetrics.insert(name) }
                continue
            }
            let labels = try SeriesNotation.labels(descriptor, line: line)
            let expanded = try SeriesNotation.values(values, line: line)
            if let existing = load.series.firstIndex(where: { $0.labels == labels }) {
                load.series[existing].values = expanded
            } else {
                load.series.append((labels, expanded))
            }
        }
        return load
    }
}
