import Foundation

/// Reads a fixture made by scripts/gen-remote-write-fixtures.py.
func fixture(_ name: String) throws -> [UInt8] {
    guard let url = Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures/remote") else {
        throw FixtureMissing(name: name)
    }
    return Array(try Data(contentsOf: url))
}

/// The JSON expectation written beside a fixture.
func fixtureJSON(_ name: String) throws -> [String: Any] {
    let object = try JSONSerialization.jsonObject(with: Data(fixture(name + ".json")))
    guard let dictionary = object as? [String: Any] else { throw FixtureMissing(name: name + ".json") }
    return dictionary
}

struct FixtureMissing: Error {
    var name: String
}
