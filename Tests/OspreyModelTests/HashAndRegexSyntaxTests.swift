import OspreyModel
import Testing

struct XXHash64Tests {
    /// Reference values of XXH64 with seed 0 (xxHash's own test vectors).
    @Test(arguments: [
        ("", 0xEF46_DB37_51D8_E999 as UInt64), ("a", 0xD24E_C4F1_A98C_6E5B), ("abc", 0x44BC_2CF5_AD77_0999),
        ("Nobody inspects the spammish repetition", 0xFBCE_A83C_8A37_8BF1),
    ])
    func matchesReferenceVectors(_ text: String, _ expected: UInt64) {
        #expect(XXHash64.hash(Array(text.utf8)) == expected)
    }

    @Test func labelHashSeparatesNamesAndValuesLikePrometheus() {
        let labels = Labels(["__name__": "up", "job": "a"])
        #expect(labels.prometheusHash == XXHash64.hash(bytes("__name__", "up", "job", "a")))
    }

    private func bytes(_ parts: String...) -> [UInt8] {
        var out: [UInt8] = []
        for part in parts {
            out += Array(part.utf8)
            out.append(0xFF)
        }
        return out
    }
}

struct GoRegexSyntaxTests {
    @Test func namedGroupsBecomeNumberedGroups() {
        let syntax = GoRegexSyntax("(?P<first_word>[a-z]+)-(\\d+)-(?<rest>.*)")
        #expect(syntax.icuPattern == "([a-z]+)-(\\d+)-(.*)")
        #expect(syntax.groupNumbers == ["first_word": 1, "rest": 3])
    }

    @Test func leavesClassesEscapesAndLookaroundAlone() {
        #expect(GoRegexSyntax("[(?P<x>)]\\(?:a)").icuPattern == "[(?P<x>)]\\(?:a)")
        #expect(GoRegexSyntax("\\Q(?P<x>\\E(?P<y>b)").icuPattern == "\\Q(?P<x>\\E(b)")
        #expect(GoRegexSyntax("(?i)ab|(?:c)").groupNumbers.isEmpty)
    }

    @Test func selectorsAcceptGoNamedGroups() throws {
        let matcher = try LabelMatcher(.regexMatch, "instance", "(?P<kind>[a-z]+)-.*")
        #expect(matcher.matches("api-0"))
        #expect(!matcher.matches("0-api"))
    }
}
