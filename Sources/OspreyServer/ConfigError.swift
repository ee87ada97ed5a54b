/// A configuration problem, located by file, line and key.
package struct ConfigError: Error, Hashable, CustomStringConvertible, Sendable {
    /// The configuration file.
    package var file: String
    /// 1-based line, or nil when the problem is not tied to a line.
    package var line: Int?
    /// Dotted path of the key, e.g. `storage.tsdb.out_of_order_time_window`.
    package var key: String?
    /// What is wrong and how to fix it.
    package var message: String

    /// Creates an error.
    package init(file: String, line: Int?, key: String?, message: String) {
        self.file = file
        self.line = line
        self.key = key
        self.message = message
    }

    /// `osprey.yml:12: storage.tsdb.foo: unknown key …`
    package var description: String {
        var out = file
        if let line { out += ":\(line)" }
        out += ": "
        if let key { out += "\(key): " }
        return out + message
    }
}
