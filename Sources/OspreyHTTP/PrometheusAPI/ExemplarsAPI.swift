import HTTPTypes
import Hummingbird
import OspreyModel
import OspreyPromQLParser
import OspreyStorage

/// `/api/v1/query_exemplars?query=…&start=…&end=…` (GET and form POST): the exemplars of the
/// series the query's selectors match, as Prometheus answers it:
/// `[{"seriesLabels": {…}, "exemplars": [{"labels": {…}, "value": "…", "timestamp": seconds}]}]`.
struct ExemplarsAPI: Sendable {
    let exemplars: any ExemplarQueryable

    func register(on router: Router<OspreyRequestContext>) {
        router.get("/api/v1/query_exemplars") { request, _ in try await handle { try await query(request) } }
        router.post("/api/v1/query_exemplars") { request, _ in try await handle { try await query(request) } }
    }

    private func query(_ request: Request) async throws -> Response {
        let parameters = try await APIParameters.from(request)
        let (start, end) = try parameters.timeRange()
        let text = parameters.first("query") ?? ""
        let expr: Expr
        do {
            expr = try PromQLParser.parse(text)
        } catch {
            throw APIError(.badData, "invalid parameter \"query\": \(error)")
        }
        let matcherSets = expr.selectorMatchers
        let found = try storage { () throws(StorageError) in
            try exemplars.exemplars(matcherSets: matcherSets, minTimeMs: start, maxTimeMs: end)
        }
        return APIEnvelope.success { writer in
            writer.array { array in
                for series in found {
                    array.element { element in
                        element.object { object in
                            object.field("seriesLabels") { labels in
                                labels.object { fields in
                                    for label in series.labels { fields.field(label.name, label.value) }
                                }
                            }
                            object.field("exemplars") { list in
                                list.array { items in
                                    for exemplar in series.exemplars {
                                        items.element { item in
                                            item.object { fields in
                                                fields.field("labels") { labels in
                                                    labels.object { pairs in
                                                        for label in exemplar.labels { pairs.field(label.name, label.value) }
                                                    }
                                                }
                                                fields.field("value", GoFloatFormat.f(exemplar.value))
                                                fields.field("timestamp", raw: Self.seconds(exemplar.timestampMs ?? 0))
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// A millisecond time as Prometheus writes exemplar timestamps: seconds with the
    /// milliseconds as a fraction.
    private static func seconds(_ ms: Int64) -> String {
        var bytes = JSONBytes()
        bytes.timestamp(ms)
        return String(decoding: bytes.bytes, as: UTF8.self)
    }
}
