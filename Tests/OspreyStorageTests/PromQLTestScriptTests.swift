import Foundation
import OspreyModel
import OspreyTestSupport
import Testing

struct PromQLTestScriptTests {
    private static let conformance = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("shared/conformance/promql")

    @Test func expandsValueSequencesAsTheReference() throws {
        let script = try PromQLTestScript.parse("""
            load 5m
              http_requests{job="api", instance="0"} 0+10x3 _ stale 1e3 -2.5-0.5x2 _x2 7x1
              {} 1
              other{a="x y"} {{schema:0 sum:5 count:3}} {{}}+{{count:1}}x2

            eval instant at 10m http_requests
              http_requests{job="api", instance="0"} 20

            eval range from 0 to 10m step 5m sum(http_requests)
              expect warn msg: PromQL warning: something (1:1)
              {} 0 10 _

            eval instant at 0 time()
              0
            """)
        #expect(script.commands.count == 4)
        guard case .load(let load) = script.commands[0] else { Issue.record("no load"); return }
        #expect(load.intervalMs == 300_000)
        let values = load.series[0].values
        let expected: [SequenceValue] = [
            .float(0), .float(10), .float(20), .float(30), .gap, .float(StaleMarker.value), .float(1000),
            .float(-2.5), .float(-3), .float(-3.5), .gap, .gap, .float(7), .float(7),
        ]
        #expect(values.count == expected.count)
        for (got, want) in zip(values, expected) {
            switch (got, want) {
            case (.float(let a), .float(let b)): #expect(a.bitPattern == b.bitPattern)
            default: #expect(got == want)
            }
        }
        #expect(load.series[1].labels == .empty)
        #expect(load.series[2].values.count == 2)
        guard case .eval(let range) = script.commands[2] else { Issue.record("no eval"); return }
        #expect(range.expr == "sum(http_requests)")
        #expect(range.expectations.warnings == ["PromQL warning: something (1:1)"])
        #expect(range.series.first?.values == [.float(0), .float(10), .gap])
        guard case .eval(let scalar) = script.commands[3] else { Issue.record("no scalar eval"); return }
        #expect(scalar.scalar == 0)
    }

    @Test func commentsEndBlocksAndBadLinesNameTheirLine() throws {
        let script = try PromQLTestScript.parse("eval instant at 1m foo\n# empty\n\neval instant at 1m bar\n  bar 1\n")
        guard case .eval(let first) = script.commands[0] else { Issue.record("no eval"); return }
        #expect(first.series.isEmpty)
        do {
            _ = try PromQLTestScript.parse("load 1m\n  foo 1 2\nbogus command\n")
            Issue.record("parsed")
        } catch {
            #expect(error.line == 3)
        }
    }

    @Test func everyCorpusFileParsesAndMatchesTheInventory() throws {
        let inventory = try String(contentsOf: Self.conformance.appendingPathComponent("EVALS.tsv"), encoding: .utf8)
        var expected: [String: [(Int, String)]] = [:]
        for row in inventory.split(separator: "\n") where !row.hasPrefix("#") && !row.hasPrefix("file\t") {
            let fields = row.split(separator: "\t", omittingEmptySubsequences: false)
            guard fields.count >= 3, let line = Int(fields[1]) else { continue }
            expected[String(fields[0]), default: []].append((line, String(fields[2])))
        }
        let directory = Self.conformance.appendingPathComponent("testdata")
        var total = 0
        for file in try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() where file.hasSuffix(".test") {
            let text = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
            let script = try PromQLTestScript.parse(text)
            let evals = script.commands.compactMap { command -> (Int, String)? in
                guard case .eval(let eval) = command else { return nil }
                if case .range = eval.kind { return (eval.line, "range") }
                return (eval.line, "instant")
            }
            total += evals.count
            let want = expected[file] ?? []
            #expect(evals.map(\.0) == want.map(\.0), "\(file): eval lines differ from EVALS.tsv")
            #expect(evals.map(\.1) == want.map(\.1), "\(file): eval kinds differ from EVALS.tsv")
        }
        #expect(total == 1636)
    }
}
