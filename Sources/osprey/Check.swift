import ArgumentParser
import OspreyServer

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check configuration files.",
        subcommands: [CheckConfig.self]
    )
}

struct CheckConfig: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Check that configuration files are valid; errors name the file, line and key."
    )

    @Argument(help: "Configuration files to check.")
    var files: [String]

    func run() throws {
        var failed = false
        for file in files {
            do {
                _ = try OspreyConfig.load(path: file)
                print("\(file): SUCCESS")
            } catch {
                print("\(file): FAILED: \(error)")
                failed = true
            }
        }
        if failed { throw ExitCode(1) }
    }
}
