import HTTPTypes
import Hummingbird
import OspreyModel
import OspreyStorage

/// `/api/v1/series`, `/api/v1/labels` and `/api/v1/label/<name>/values`.
struct SeriesAPI: Sendable {
    let queryable: any MetricQueryable

    func register(on router: Router<OspreyRequestContext>) {
        for path in ["/api/v1/series"] {
            router.get(RouterPath(path)) { request, _ in try await handle { try await series(request) } }
            router.post(RouterPath(path)) { request, _ in try await handle { try await series(request) } }
        }
        router.get("/api/v1/labels") { request, _ in try await handle { try await labels(request) } }
        router.post("/api/v1/labels") { request, _ in try await handle { try await labels(request) } }
        // Prometheus serves label values on GET only; Osprey also takes a form POST for long match[].
        router.get("/api/v1/label/:name/values") { request, context in
            try await handle { try await labelValues(request, name: context.parameters.get("name") ?? "") }
        }
        router.post("/api/v1/label/:name/values") { request, context in
            try await handle { try await labelValues(request, name: context.parameters.get("name") ?? "") }
        }
    }

    private func series(_ request: Request) async throws -> Response {
        let parameters = try await APIParameters.from(request)
        let matcherSets = try parameters.matcherSets()
        guard !matcherSets.isEmpty else { throw APIError(.badData, "no match[] parameter provided") }
        let (start, end) = try parameters.timeRange()
        let limit = try parameters.limit()
        let querier = try storage { () throws(StorageError) in try queryable.querier(minTimeMs: start, maxTimeMs: end) }
        defer { querier.close() }
        var found = Set<Labels>()
        for matchers in matcherSets {
            let set = try storage { () throws(StorageError) in
                try querier.select(sorted: false, hints: SelectHints(startMs: start, endMs: end, seriesOnly: true), matchers: matchers)
            }
            while let next = try storage({ () throws(StorageError) in try set.next() }) {
                found.insert(next.labels)
            }
        }
        var sorted = found.sorted()
        var warnings: [String] = []
        if limit > 0 && sorted.count > limit {
            sorted.removeLast(sorted.count - limit)
            warnings.append(APIEnvelope.truncatedWarning)
        }
        return APIEnvelope.success(warnings: warnings) { writer in
            writer.array { array in
                for labels in sorted {
                    array.element { element in
                        element.object { object in
                            for label in labels { object.field(label.name, label.value) }
                        }
                    }
                }
            }
        }
    }

    private func labels(_ request: Request) async throws -> Response {
        let parameters = try await APIParameters.from(request)
        let matcherSets = try parameters.matcherSets()
        let (start, end) = try parameters.timeRange()
        let limit = try parameters.limit()
        let querier = try storage { () throws(StorageError) in try queryable.querier(minTimeMs: start, maxTimeMs: end) }
        defer { querier.close() }
        var names = Set<String>()
        for matchers in matcherSets.isEmpty ? [[]] : matcherSets {
            let found = try storage { () throws(StorageError) in try querier.labelNames(matchers: matchers, limit: 0) }
            names.formUnion(found)
        }
        return stringList(names, limit: limit)
    }

    private func labelValues(_ request: Request, name rawName: String) async throws -> Response {
        let name = LabelNameEscaping.unescape(rawName)
        guard NameValidationScheme.utf8.isValidLabelName(name) else {
            throw APIError(.badData, "invalid label name: \"\(rawName)\"")
        }
        let parameters = try await APIParameters.from(request)
        let matcherSets = try parameters.matcherSets()
        let (start, end) = try parameters.timeRange()
        let limit = try parameters.limit()
        let querier = try storage { () throws(StorageError) in try queryable.querier(minTimeMs: start, maxTimeMs: end) }
        defer { querier.close() }
        var values = Set<String>()
        for matchers in matcherSets.isEmpty ? [[]] : matcherSets {
            let found = try storage { () throws(StorageError) in try querier.labelValues(name, matchers: matchers, limit: 0) }
            values.formUnion(found)
        }
        return stringList(values, limit: limit)
    }

    private func stringList(_ set: Set<String>, limit: Int) -> Response {
        var sorted = set.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        var warnings: [String] = []
        if limit > 0 && sorted.count > limit {
            sorted.removeLast(sorted.count - limit)
            warnings.append(APIEnvelope.truncatedWarning)
        }
        return APIEnvelope.success(warnings: warnings) { writer in
            writer.array { array in
                for value in sorted { array.string(value) }
            }
        }
    }
}

/// Runs a storage call, turning its error into the API's.
func storage<T>(_ body: () throws(StorageError) -> T) throws(APIError) -> T {
    do {
        return try body()
    } catch {
        throw ErrorMapping.apiError(for: error)
    }
}

/// Runs a handler, turning API errors into Prometheus-style JSON error responses.
func handle(_ body: () async throws -> Response) async throws -> Response {
    do {
        return try await body()
    } catch let error as APIError {
        return ErrorMapping.response(for: error)
    } catch let error as StorageError {
        return ErrorMapping.response(for: ErrorMapping.apiError(for: error))
    } catch let error as any HTTPResponseError {
        throw error
    } catch {
        return ErrorMapping.response(for: APIError(.internal, "\(error)"))
    }
}

/// Prometheus 3's `U__` escaping of UTF-8 label names in URL paths.
enum LabelNameEscaping {
    static func unescape(_ name: String) -> String {
        guard name.hasPrefix("U__") else { return name }
        var out = ""
        var scalars = Array(name.unicodeScalars.dropFirst(3))[...]
        while let scalar = scalars.popFirst() {
            guard scalar == "_" else {
                out.unicodeScalars.append(scalar)
                continue
            }
            if scalars.first == "_" {
                scalars = scalars.dropFirst()
                out.append("_")
                continue
            }
            var hex = ""
            while let next = scalars.popFirst(), next != "_" { hex.unicodeScalars.append(next) }
            guard let code = UInt32(hex, radix: 16), let decoded = Unicode.Scalar(code) else { return name }
            out.unicodeScalars.append(decoded)
        }
        return out
    }
}
