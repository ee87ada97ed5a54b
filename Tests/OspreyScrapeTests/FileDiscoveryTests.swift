import Foundation
import OspreyModel
@testable import OspreyScrape
import Testing

struct FileDiscoveryTests {
    @Test func jsonAndYAMLFilesWithWildcards() throws {
        let directory = NSTemporaryDirectory() + "osprey-sd-\(UInt64.random(in: 0...UInt64.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try #"[{"targets": ["a:1", "b:2"], "labels": {"env": "prod"}}]"#.write(toFile: directory + "/one.json", atomically: true, encoding: .utf8)
        try "- targets: ['c:3']\n".write(toFile: directory + "/two.yml", atomically: true, encoding: .utf8)
        try "ignored".write(toFile: directory + "/three.txt", atomically: true, encoding: .utf8)

        let files = FileDiscovery.files(matching: [directory + "/*.json", directory + "/*.yml"])
        #expect(files == [directory + "/one.json", directory + "/two.yml"])
        let one = try FileDiscovery.groups(inFile: directory + "/one.json")
        #expect(one == [TargetGroup(targets: ["a:1", "b:2"], labels: Labels(["env": "prod", "__meta_filepath": directory + "/one.json"]), source: directory + "/one.json:0")])
        #expect(try FileDiscovery.groups(inFile: directory + "/two.yml").first?.targets == ["c:3"])
    }

    @Test func badFilesNameTheFileAndLine() {
        let cases = [
            ("{\"targets\": []}", "expected a list"),
            ("- targets: ['a/b:1']\n", "not a valid hostname"),
            ("- targets: ['a:1']\n  labelz: {}\n", "unknown key"),
            ("- targets: [\n", "invalid YAML"),
        ]
        for (text, words) in cases {
            do {
                _ = try FileDiscovery.groups(parsing: text, path: "sd.yml")
                Issue.record("accepted \(text)")
            } catch {
                #expect(error.description.hasPrefix("sd.yml"), "\(error)")
                #expect(error.description.contains(words), "\(error)")
            }
        }
    }
}
