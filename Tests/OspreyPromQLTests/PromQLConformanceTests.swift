import Foundation
import OspreyModel
import OspreyStorage
import OspreyTestSupport
import OspreyTSDB
import Testing

/// Runs the shared promqltest corpus, Osprey's own `.test` files in `testdata/` (and every `.test` file in the directories listed in
/// `OSPREY_PROMQL_TESTDATA`, colon-separated) against the reference store and the TSDB head.
struct PromQLConformanceTests {
    static func files() throws -> [URL] {
        let shared = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("shared/conformance/promql/testdata")
        let own = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("testdata")
        var directories = [shared, own]
        if let extra = ProcessInfo.processInfo.environment["OSPREY_PROMQL_TESTDATA"] {
            directories += extra.split(separator: ":").map { URL(fileURLWithPath: String($0)) }
        }
        var files: [URL] = []
        for directory in directories {
            for name in try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() where name.hasSuffix(".test") {
                files.append(directory.appendingPathComponent(name))
            }
        }
        return files
    }

    enum Backend: String, CaseIterable, CustomStringConvertible {
        case reference, tsdb
        var description: String { rawValue }

        func make() -> any ConformanceStore {
            switch self {
            case .reference: return ReferenceStore()
            case .tsdb: return HeadStore()
            }
        }
    }

    @Test(arguments: Backend.allCases)
    func corpusPasses(_ backend: Backend) async throws {
        var total = PromQLTestRunner.Outcome()
        for file in try Self.files() {
            let script = try PromQLTestScript.parse(try String(contentsOf: file, encoding: .utf8))
            total.merge(await PromQLTestRunner.run(script, file: file.lastPathComponent, makeStore: backend.make))
        }
        for failure in total.failures { print("PROMQL-FAIL [\(backend)] \(failure)") }
        for (reason, count) in total.skipped.sorted(by: { $0.value > $1.value }) { print("PROMQL-SKIP [\(backend)] \(count) \(reason)") }
        print("PromQL conformance [\(backend)]: \(total.summary)")
        #expect(total.failures.count == 0, Comment(rawValue: "\(total.failures.count) evals failed; see PROMQL-FAIL lines"))
        #expect(total.passed > 0)
    }
}

/// The TSDB head (no WAL) behind the storage contracts, with a 24 h block range as Prometheus'
/// own test storage (`util/teststorage`), so that scripts may load series in any time order
/// within half of it.
final class HeadStore: MetricAppendable, MetricQueryable, Sendable {
    let head: Head = {
        var options = TSDBOptions()
        options.chunkRangeMs = 24 * 3_600_000
        return Head(options: options, wal: nil)
    }()

    func appender() -> any MetricAppender { head.appender() }

    func querier(minTimeMs: Int64, maxTimeMs: Int64) throws(StorageError) -> any MetricQuerier {
        HeadQuerier(head: head, minTimeMs: minTimeMs, maxTimeMs: maxTimeMs)
    }
}
