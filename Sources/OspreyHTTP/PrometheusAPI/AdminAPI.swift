import HTTPTypes
import Hummingbird
import OspreyStorage

/// `/api/v1/admin/tsdb/{delete_series,clean_tombstones,snapshot}`, on `POST` and `PUT` as in
/// Prometheus. Without an administration (the server started without
/// `--web.enable-admin-api`) each answers 403 with Prometheus' `unavailable` error body.
struct AdminAPI: Sendable {
    /// Nil while the admin API is disabled.
    let administration: (any MetricAdministration)?

    static let disabledMessage = "admin APIs disabled; start Osprey with --web.enable-admin-api to use them"

    func register(on router: Router<OspreyRequestContext>) {
        let endpoints: [(String, @Sendable (Request, any MetricAdministration) async throws -> Response)] = [
            ("/api/v1/admin/tsdb/delete_series", deleteSeries),
            ("/api/v1/admin/tsdb/clean_tombstones", cleanTombstones),
            ("/api/v1/admin/tsdb/snapshot", snapshot),
        ]
        for (path, body) in endpoints {
            let serve: @Sendable (Request, OspreyRequestContext) async throws -> Response = { [administration] request, _ in
                guard let administration else {
                    return ErrorMapping.response(for: APIError(.unavailable, Self.disabledMessage), status: .forbidden)
                }
                return try await handle { try await body(request, administration) }
            }
            router.post(RouterPath(path), use: serve)
            router.put(RouterPath(path), use: serve)
        }
    }

    private func deleteSeries(_ request: Request, _ administration: any MetricAdministration) async throws -> Response {
        let parameters = try await APIParameters.from(request)
        let matcherSets = try parameters.matcherSets()
        guard !matcherSets.isEmpty else { throw APIError(.badData, "no match[] parameter provided") }
        let (start, end) = try parameters.timeRange()
        try await administration.deleteSeries(matcherSets: matcherSets, minTimeMs: start, maxTimeMs: end)
        return Response(status: .noContent)
    }

    private func cleanTombstones(_ request: Request, _ administration: any MetricAdministration) async throws -> Response {
        try await administration.cleanTombstones()
        return Response(status: .noContent)
    }

    private func snapshot(_ request: Request, _ administration: any MetricAdministration) async throws -> Response {
        let parameters = try await APIParameters.from(request)
        let skipHead = try Self.parseBool(parameters.first("skip_head"), name: "skip_head")
        let name = try await administration.snapshot(skipHead: skipHead)
        return APIEnvelope.success { writer in
            writer.object { object in object.field("name", name) }
        }
    }

    /// Go's `strconv.ParseBool`, empty meaning false.
    static func parseBool(_ text: String?, name: String) throws(APIError) -> Bool {
        switch text ?? "" {
        case "", "0", "f", "F", "false", "FALSE", "False": return false
        case "1", "t", "T", "true", "TRUE", "True": return true
        case let other: throw APIError(.badData, "unable to parse boolean '\(name)' argument: invalid syntax: \"\(other)\"")
        }
    }
}
