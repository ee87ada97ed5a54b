import OspreyModel
import Testing

struct LabelMatcherTests {
    private func m(_ type: MatchType, _ value: String) throws -> LabelMatcher {
        try LabelMatcher(type, "l", value)
    }

    @Test func regexesAreFullyAnchored() throws {
        #expect(try m(.regexMatch, "ab").matches("ab"))
        #expect(try !m(.regexMatch, "ab").matches("xaby"))
        #expect(try m(.regexMatch, "a.c").matches("abc"))
        #expect(try !m(.regexMatch, "a|b").matches("ab"))
    }

    @Test func dotMatchesNewlineAsInPrometheus3() throws {
        #expect(try m(.regexMatch, ".*").matches("a\nb"))
        #expect(try m(.regexMatch, "a.b").matches("a\nb"))
    }

    @Test(arguments: [
        (MatchType.equal, "", true), (.equal, "x", false), (.notEqual, "", false), (.notEqual, "x", true),
        (.regexMatch, ".*", true), (.regexMatch, ".+", false), (.regexMatch, "x|", true), (.notRegexMatch, ".+", true),
        (.notRegexMatch, ".*", false),
    ])
    func emptyValueRules(_ type: MatchType, _ value: String, _ matchesEmpty: Bool) throws {
        #expect(try LabelMatcher(type, "l", value).matchesEmpty == matchesEmpty)
    }

    @Test func literalAlternationsUseSetLookup() throws {
        let matcher = try m(.regexMatch, "foo|bar|baz")
        #expect(matcher.setMatches == ["foo", "bar", "baz"])
        #expect(matcher.matches("bar"))
        #expect(!matcher.matches("ba"))
        #expect(try m(.regexMatch, "(?:a|b)").setMatches == ["a", "b"])
        #expect(try m(.regexMatch, "a.|b").setMatches == nil)
    }

    @Test func escapedLiteralsAndPrefixes() throws {
        #expect(try m(.regexMatch, "10\\.0\\.0\\.1").matches("10.0.0.1"))
        #expect(try !m(.regexMatch, "10\\.0\\.0\\.1").matches("10x0.0.1"))
        #expect(try m(.regexMatch, "api.*").matches("api-server"))
        #expect(try !m(.regexMatch, "api.*").matches("the-api"))
    }

    @Test func characterClassesAndRepetition() throws {
        #expect(try m(.regexMatch, "[0-9]{3}").matches("404"))
        #expect(try !m(.regexMatch, "[0-9]{3}").matches("40"))
        #expect(try m(.notRegexMatch, "5..").matches("404"))
    }

    @Test func invalidRegexIsAnError() {
        #expect(throws: ModelError.self) { try LabelMatcher(.regexMatch, "l", "(") }
        #expect(throws: ModelError.self) { try LabelMatcher(.regexMatch, "l", "a|(") }
    }

    @Test func descriptionIsPromQL() throws {
        #expect(try LabelMatcher(.notRegexMatch, "job", "a\"b").description == "job!~\"a\\\"b\"")
    }
}
