import OspreyIngest
import OspreyModel
import Testing

struct PushgatewayGroupingKeyTests {
    @Test func plainAndBase64Segments() throws {
        #expect(try PushgatewayGroupingKey.parse(segments: ["job", "backup"]) == Labels(["job": "backup"]))
        #expect(try PushgatewayGroupingKey.parse(segments: ["job", "backup", "instance", "db1"]) == Labels(["job": "backup", "instance": "db1"]))
        // base64url of "a/b" is "YS9i"; "=" alone is the empty value (the label is left out).
        #expect(try PushgatewayGroupingKey.parse(segments: ["job@base64", "YmFja3Vw", "path@base64", "YS9i", "instance@base64", "="])
                == Labels(["job": "backup", "path": "a/b"]))
        // URL-safe alphabet, no padding: "?>" is "Pz4" in URL-safe base64.
        #expect(try PushgatewayGroupingKey.parse(segments: ["job", "j", "q@base64", "Pz4"]) == Labels(["job": "j", "q": "?>"]))
    }

    @Test(arguments: [
        (["job"], "must be"),
        (["instance", "x"], "must be"),
        (["job", "a", "instance"], "odd number"),
        (["job", "a", "__x", "1"], "improper label name"),
        (["job", "a", "bad-name", "1"], "improper label name"),
        (["job", "a", "x", "1", "x", "2"], "duplicate label name"),
        (["job@base64", "="], "job name is required"),
        (["job", "a", "x@base64", "!!!"], "invalid base64"),
    ])
    func badPathsAreRejected(_ segments: [String], _ words: String) {
        do {
            _ = try PushgatewayGroupingKey.parse(segments: segments)
            Issue.record("accepted \(segments)")
        } catch {
            #expect(error.message.contains(words), "\(error)")
        }
    }
}
