import Foundation
import OspreyModel
import Testing

struct RelabelRuleTests {
    private static let input = Labels(["a": "foo", "b": "bar", "c": "baz", "__meta_pod_label_app": "web", "__meta_pod_label_tier": "front"])

    struct Case: CustomStringConvertible, Sendable {
        var name: String
        var rules: [RelabelRule]
        var input: Labels = RelabelRuleTests.input
        var output: [String: String]?
        var description: String { name }
    }

    private static func rule(
        _ action: RelabelRule.Action, source: [String] = [], separator: String = ";", target: String = "",
        regex: String = "(.*)", modulus: UInt64 = 0, replacement: String = "$1", scheme: NameValidationScheme = .utf8
    ) -> RelabelRule {
        do {
            return try RelabelRule(sourceLabels: source, separator: separator, targetLabel: target, regex: regex, modulus: modulus, replacement: replacement, action: action, nameValidation: scheme)
        } catch {
            fatalError("invalid test rule: \(error)")
        }
    }

    private static let base: [String: String] = ["a": "foo", "b": "bar", "c": "baz", "__meta_pod_label_app": "web", "__meta_pod_label_tier": "front"]

    private static func plus(_ extra: [String: String], minus: [String] = []) -> [String: String] {
        var out = base.merging(extra) { $1 }
        for name in minus { out[name] = nil }
        return out
    }

    static let cases: [Case] = [
        Case(name: "replace with groups", rules: [rule(.replace, source: ["a"], target: "d", regex: "f(.*)", replacement: "ch${1}-ch${1}")],
             output: plus(["d": "choo-choo"])),
        Case(name: "replace joins sources with the separator", rules: [rule(.replace, source: ["a", "b"], separator: "/", target: "d", regex: "(.*)/(.*)", replacement: "$2-$1")],
             output: plus(["d": "bar-foo"])),
        Case(name: "replace without a match changes nothing", rules: [rule(.replace, source: ["a"], target: "d", regex: "x.*")], output: base),
        Case(name: "regex is anchored", rules: [rule(.replace, source: ["a"], target: "d", regex: "o+", replacement: "y")], output: base),
        Case(name: "replace with an empty result deletes the target", rules: [rule(.replace, source: ["a"], target: "b", regex: "foo", replacement: "")],
             output: plus([:], minus: ["b"])),
        Case(name: "missing sources read as empty", rules: [rule(.replace, source: ["nope"], target: "d", regex: "", replacement: "empty")],
             output: plus(["d": "empty"])),
        Case(name: "target label from a group", rules: [rule(.replace, source: ["a"], target: "${1}_x", regex: "(f.*)", replacement: "v")],
             output: plus(["foo_x": "v"])),
        Case(name: "an invalid expanded target name is skipped", rules: [rule(.replace, source: ["a"], target: "${1}", regex: "(f.*)", replacement: "v", scheme: .legacy)],
             input: Labels(["a": "9foo"]), output: ["a": "9foo"]),
        Case(name: "named groups and $$", rules: [rule(.replace, source: ["a"], target: "d", regex: "(?P<first>f)(?P<rest>.*)", replacement: "$rest$$${first}")],
             output: plus(["d": "oo$f"])),
        Case(name: "keep keeps a match", rules: [rule(.keep, source: ["a"], regex: "f.*")], output: base),
        Case(name: "keep drops a mismatch", rules: [rule(.keep, source: ["a"], regex: "b.*")], output: nil),
        Case(name: "drop drops a match", rules: [rule(.drop, source: ["a", "b"], regex: "foo;bar")], output: nil),
        Case(name: "drop keeps a mismatch", rules: [rule(.drop, source: ["a"], regex: "bar")], output: base),
        Case(name: "drop on a missing label matches the empty string", rules: [rule(.drop, source: ["missing"], regex: "")], output: nil),
        Case(name: "keepequal keeps equal values", rules: [rule(.keepequal, source: ["a"], target: "x")], input: Labels(["a": "1", "x": "1"]), output: ["a": "1", "x": "1"]),
        Case(name: "keepequal drops different values", rules: [rule(.keepequal, source: ["a"], target: "x")], input: Labels(["a": "1", "x": "2"]), output: nil),
        Case(name: "dropequal drops equal values", rules: [rule(.dropequal, source: ["a"], target: "x")], input: Labels(["a": "1", "x": "1"]), output: nil),
        Case(name: "dropequal keeps different values", rules: [rule(.dropequal, source: ["a"], target: "x")], input: Labels(["a": "1", "x": "2"]), output: ["a": "1", "x": "2"]),
        Case(name: "hashmod as Prometheus computes it (md5, last 8 bytes)", rules: [rule(.hashmod, source: ["c"], target: "d", modulus: 1000)],
             output: plus(["d": "976"])),
        Case(name: "hashmod of an address", rules: [rule(.hashmod, source: ["__address__"], target: "__tmp_hash", modulus: 8)],
             input: Labels(["__address__": "127.0.0.1:9100"]), output: ["__address__": "127.0.0.1:9100", "__tmp_hash": "6"]),
        Case(name: "labelmap copies matching names", rules: [rule(.labelmap, regex: "__meta_pod_label_(.+)")],
             output: plus(["app": "web", "tier": "front"])),
        Case(name: "labelmap with a replacement template", rules: [rule(.labelmap, regex: "__meta_pod_label_(.+)", replacement: "pod_$1")],
             output: plus(["pod_app": "web", "pod_tier": "front"])),
        Case(name: "labeldrop removes matching names", rules: [rule(.labeldrop, regex: "__meta_.*|b")], output: ["a": "foo", "c": "baz"]),
        Case(name: "labelkeep keeps matching names", rules: [rule(.labelkeep, regex: "a|c")], output: ["a": "foo", "c": "baz"]),
        Case(name: "lowercase", rules: [rule(.lowercase, source: ["x"], target: "y")], input: Labels(["x": "MiXeD Ünïcode"]), output: ["x": "MiXeD Ünïcode", "y": "mixed ünïcode"]),
        Case(name: "uppercase of two sources", rules: [rule(.uppercase, source: ["a", "b"], separator: "_", target: "a")], output: plus(["a": "FOO_BAR"])),
        Case(name: "rules apply in order and see earlier results", rules: [
            rule(.replace, source: ["a"], target: "__tmp", regex: "(.*)", replacement: "${1}1"),
            rule(.replace, source: ["__tmp"], target: "e", regex: "foo(.)", replacement: "n$1"),
            rule(.labeldrop, regex: "__.*"),
        ], output: ["a": "foo", "b": "bar", "c": "baz", "e": "n1"]),
        Case(name: "a drop stops the rules", rules: [rule(.drop, source: ["a"], regex: "foo"), rule(.replace, target: "never", replacement: "x")], output: nil),
        Case(name: "replace with the default regex sets a constant", rules: [rule(.replace, target: "env", replacement: "prod")], output: plus(["env": "prod"])),
    ]

    @Test(arguments: cases)
    func relabels(_ testCase: Case) {
        let result = RelabelRule.process(testCase.input, rules: testCase.rules)
        #expect(result == testCase.output.map { Labels($0) })
    }

    @Test func validationRejectsWhatPrometheusRejects() {
        let invalid: [(String, () throws -> RelabelRule)] = [
            ("requires 'target_label'", { try RelabelRule(sourceLabels: ["a"], action: .replace) }),
            ("requires 'target_label'", { try RelabelRule(sourceLabels: ["a"], action: .lowercase) }),
            ("non-zero modulus", { try RelabelRule(sourceLabels: ["a"], targetLabel: "b", action: .hashmod) }),
            ("requires only 'source_labels'", { try RelabelRule(sourceLabels: ["a"], targetLabel: "b", regex: "x", action: .keepequal) }),
            ("requires only 'regex'", { try RelabelRule(sourceLabels: ["a"], regex: "x", action: .labeldrop) }),
            ("requires only 'regex'", { try RelabelRule(targetLabel: "t", regex: "x", action: .labelkeep) }),
            ("invalid 'target_label'", { try RelabelRule(sourceLabels: ["a"], targetLabel: "1bad", action: .replace, nameValidation: .legacy) }),
            ("invalid 'replacement'", { try RelabelRule(regex: "(.*)", replacement: "-", action: .labelmap, nameValidation: .legacy) }),
            ("invalid regular expression", { try RelabelRule(sourceLabels: ["a"], targetLabel: "b", regex: "(", action: .replace) }),
        ]
        for (words, make) in invalid {
            do {
                _ = try make()
                Issue.record("accepted a rule that should fail with \(words)")
            } catch {
                #expect("\(error)".contains(words), "\(error)")
            }
        }
        #expect(RelabelRule.action(named: "LabelMap") == .labelmap)
        #expect(RelabelRule.action(named: "replace_all") == nil)
        #expect((try? RelabelRule(sourceLabels: ["a"], targetLabel: "${1}_x", regex: "(.*)", action: .replace, nameValidation: .legacy)) != nil)
    }

    @Test func md5MatchesKnownDigests() {
        func hex(_ text: String) -> String { MD5.digest(Array(text.utf8)).map { String(format: "%02x", $0) }.joined() }
        #expect(hex("") == "d41d8cd98f00b204e9800998ecf8427e")
        #expect(hex("The quick brown fox jumps over the lazy dog") == "9e107d9d372bb6826bd81d3542a419d6")
        #expect(hex(String(repeating: "a", count: 1000)) == "cabe45dcc9ae5b66ba86600cca6b8ba8")
    }
}
