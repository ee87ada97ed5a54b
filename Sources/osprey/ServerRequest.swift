import ArgumentParser
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// What the client commands (`osprey query`, `osprey traces`) share: sending a request to a
/// running server, echoing the raw answer for `--format json`, and reading it as a JSON object.
enum ServerRequest {
    /// The answer to `request` as a JSON object; unreachable servers and non-JSON answers are
    /// reported on standard error and end the command with exit code 1.
    static func jsonObject(_ request: URLRequest, server: String, echo: Bool) async throws -> [String: Any] {
        let data: Data
        do {
            (data, _) = try await URLSession.shared.data(for: request)
        } catch {
            FileHandle.standardError.write(Data("Error: cannot reach \(server): \(error.localizedDescription)\n".utf8))
            throw ExitCode(1)
        }
        if echo {
            FileHandle.standardOutput.write(data)
            FileHandle.standardOutput.write(Data("\n".utf8))
        }
        guard let body = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            FileHandle.standardError.write(Data("Error: the server's answer is not JSON: \(String(decoding: data.prefix(200), as: UTF8.self))\n".utf8))
            throw ExitCode(1)
        }
        return body
    }

    /// `server` joined with `path`.
    static func url(_ server: String, _ path: String) throws -> URL {
        guard let url = URL(string: server.trimmingCharacters(in: CharacterSet(charactersIn: "/")) + path) else {
            throw ValidationError("invalid --server \"\(server)\"")
        }
        return url
    }
}
