import OspreyModel
import Testing

struct LabelsTests {
    @Test func labelsAreSortedByNameAndDropEmptyValues() {
        let labels = Labels(sorting: [Label(name: "b", value: "2"), Label(name: "a", value: "1"), Label(name: "c", value: "")])
        #expect(labels.map(\.name) == ["a", "b"])
        #expect(labels["b"] == "2")
        #expect(labels["c"] == nil)
    }

    @Test func duplicateNamesAreReported() {
        let labels = Labels(sorting: [Label(name: "a", value: "1"), Label(name: "a", value: "2")])
        #expect(labels.duplicateName == "a")
        #expect(Labels(["a": "1"]).duplicateName == nil)
    }

    @Test func comparisonIsPairwiseByNameThenValue() {
        #expect(Labels(["a": "1"]) < Labels(["a": "2"]))
        #expect(Labels(["a": "1"]) < Labels(["a": "1", "b": "1"]))
        #expect(Labels(["a": "9"]) < Labels(["b": "1"]))
    }

    @Test func descriptionUsesPrometheusSyntax() {
        let labels = Labels(["__name__": "up", "job": "a\"b", "instance": "x"])
        #expect(labels.description == "up{instance=\"x\", job=\"a\\\"b\"}")
    }

    @Test func stableHashDependsOnNamesAndValues() {
        #expect(Labels(["a": "bc"]).stableHash != Labels(["ab": "c"]).stableHash)
        #expect(Labels(["a": "b"]).stableHash == Labels(["a": "b"]).stableHash)
    }

    @Test func builderSetsAndDeletes() {
        var builder = LabelsBuilder(Labels(["a": "1", "b": "2"]))
        builder.set("c", "3")
        builder.set("a", "")
        builder.delete("b")
        #expect(builder.labels() == Labels(["c": "3"]))
    }
}

struct NameValidationTests {
    @Test(arguments: [("up", true), ("http:requests_total", true), ("9lives", false), ("a-b", false), ("", false)])
    func legacyMetricNames(_ name: String, _ valid: Bool) {
        #expect(NameValidationScheme.legacy.isValidMetricName(name) == valid)
    }

    @Test func utf8AcceptsDotsButNotEmptyNames() {
        #expect(NameValidationScheme.utf8.isValidMetricName("http.server.duration"))
        #expect(!NameValidationScheme.utf8.isValidLabelName(""))
    }

    @Test func validationRejectsEmptySetsAndDuplicates() {
        #expect(throws: ModelError.self) { try NameValidationScheme.utf8.validate(.empty) }
        let duplicate = Labels(sorting: [Label(name: "__name__", value: "x"), Label(name: "a", value: "1"), Label(name: "a", value: "2")])
        #expect(throws: ModelError.self) { try NameValidationScheme.utf8.validate(duplicate) }
        #expect(throws: ModelError.self) { try NameValidationScheme.legacy.validate(Labels(["__name__": "a.b"])) }
    }
}

struct PrometheusDurationTests {
    @Test(arguments: [("15s", 15_000), ("1h30m", 5_400_000), ("500ms", 500), ("1d", 86_400_000), ("2w", 1_209_600_000), ("0", 0), ("1y", 31_536_000_000)] as [(String, Int64)])
    func parsesValidDurations(_ text: String, _ ms: Int64) {
        #expect(PrometheusDuration.parseMilliseconds(text) == ms)
    }

    @Test(arguments: ["", "1", "1m1h", "5x", "-1s", "1.5h", "1s1s"])
    func rejectsInvalidDurations(_ text: String) {
        #expect(PrometheusDuration.parseMilliseconds(text) == nil)
    }

    @Test func formatsCanonically() {
        #expect(PrometheusDuration.format(milliseconds: 5_400_000) == "1h30m")
        #expect(PrometheusDuration.format(milliseconds: 0) == "0s")
    }
}

struct LabelsSortKeyTests {
    @Test func sortKeysOrderLikeLabelComparison() {
        let sets: [Labels] = [
            Labels(["a": "1"]), Labels(["a": "1", "b": "2"]), Labels(["a": "10"]), Labels(["a": "1\u{0}x"]), Labels(["ab": "0"]),
            Labels(["a": ""]), Labels(["__name__": "up", "job": "x"]), Labels(["__name__": "up"]), Labels(["b": "é"]), Labels(["b": "z"]),
        ]
        for a in sets {
            for b in sets {
                #expect(Labels.sortKeyPrecedes(a.sortKey, b.sortKey) == (a < b), "\(a) vs \(b)")
            }
        }
        #expect(Labels.sortedOrder(sets).map { sets[$0] } == sets.sorted(by: <))
    }
}
