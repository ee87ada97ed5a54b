import ArgumentParser
import Foundation
import OspreyStorage
import OspreyTSDB

@main
struct Osprey: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "osprey",
        abstract: "Osprey: metrics ingest, storage and the Prometheus HTTP API in one process.",
        discussion: """
            Start with `osprey serve`: data goes to ./data, the HTTP API listens on :9090.
            Point Prometheus' remote_write at http://HOST:9090/api/v1/write.
            """,
        version: "0.1.0",
        subcommands: [Serve.self, Query.self, Traces.self, Check.self, TSDBCommand.self]
    )

    /// ArgumentParser's entry point, after capping malloc's arenas (which must happen before
    /// threads allocate).
    static func main() async {
        FreeMemory.limitArenas(cores: ProcessInfo.processInfo.activeProcessorCount)
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}
