import HTTPTypes
import Hummingbird
import NIOCore
import OspreyStorage

/// Build facts reported by `/api/v1/status/buildinfo`.
package struct BuildInfo: Hashable, Sendable {
    /// Osprey's version.
    package var version: String
    /// Source revision.
    package var revision: String
    /// Source branch.
    package var branch: String
    /// The toolchain, in the `goVersion` field Prometheus clients expect.
    package var toolchain: String

    /// Creates build facts.
    package init(version: String, revision: String, branch: String, toolchain: String) {
        self.version = version
        self.revision = revision
        self.branch = branch
        self.toolchain = toolchain
    }
}

/// `/api/v1/status/*`, `/-/healthy`, `/-/ready` and `/metrics`.
struct StatusAPI: Sendable {
    let buildInfo: BuildInfo
    let statistics: any HeadStatisticsProvider
    let isReady: @Sendable () -> Bool
    let metricsText: @Sendable () -> String

    func register(on router: Router<OspreyRequestContext>) {
        router.get("/api/v1/status/buildinfo") { _, _ in buildInfoResponse() }
        router.get("/api/v1/status/tsdb") { request, _ in
            try await handle { try await tsdbStatus(request) }
        }
        router.get("/api/v1/status/tsdb/blocks") { _, _ in blocksStatus() }
        for method in [HTTPRequest.Method.get, .head] {
            router.on("/-/healthy", method: method) { _, _ in text(.ok, "Osprey is Healthy.\n") }
            router.on("/-/ready", method: method) { _, _ in
                isReady() ? text(.ok, "Osprey is Ready.\n") : text(.serviceUnavailable, "Service Unavailable\n")
            }
        }
        router.get("/metrics") { _, _ in
            var buffer = ByteBuffer()
            buffer.writeString(metricsText())
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: buffer)
            )
        }
    }

    private func buildInfoResponse() -> Response {
        APIEnvelope.success { writer in
            writer.object { object in
                object.field("version", buildInfo.version)
                object.field("revision", buildInfo.revision)
                object.field("branch", buildInfo.branch)
                object.field("buildUser", "")
                object.field("buildDate", "")
                object.field("goVersion", buildInfo.toolchain)
            }
        }
    }

    private func tsdbStatus(_ request: Request) async throws -> Response {
        let parameters = try await APIParameters.from(request)
        var limit = 10
        if let text = parameters.first("limit") {
            guard let value = Int(text), value > 0 else {
                throw APIError(.badData, "limit must be a positive number")
            }
            limit = value
        }
        let stats = statistics.headStatistics(limit: limit)
        return APIEnvelope.success { writer in
            writer.object { object in
                object.field("headStats") { writer in
                    writer.object { head in
                        head.field("numSeries", raw: String(stats.numSeries))
                        head.field("numLabelPairs", raw: String(stats.numLabelPairs))
                        head.field("chunkCount", raw: String(stats.chunkCount))
                        head.field("minTime", raw: String(stats.minTimeMs ?? Int64.max))
                        head.field("maxTime", raw: String(stats.maxTimeMs ?? Int64.min))
                    }
                }
                object.field("seriesCountByMetricName") { entries(&$0, stats.seriesCountByMetricName) }
                object.field("labelValueCountByLabelName") { entries(&$0, stats.labelValueCountByLabelName) }
                object.field("memoryInBytesByLabelName") { entries(&$0, stats.memoryInBytesByLabelName) }
                object.field("seriesCountByLabelValuePair") { entries(&$0, stats.seriesCountByLabelValuePair) }
            }
        }
    }

    /// The persisted blocks as their `meta.json` fields name them, oldest first.
    private func blocksStatus() -> Response {
        let blocks = statistics.blockDescriptions()
        return APIEnvelope.success { writer in
            writer.object { object in
                object.field("blocks") { writer in
                    writer.array { array in
                        for block in blocks {
                            array.element { element in
                                element.object { fields in
                                    fields.field("ulid", block.ulid)
                                    fields.field("minTime", raw: String(block.minTimeMs))
                                    fields.field("maxTime", raw: String(block.maxTimeMs))
                                    fields.field("stats") { stats in
                                        stats.object { counts in
                                            counts.field("numSamples", raw: String(block.numSamples))
                                            counts.field("numSeries", raw: String(block.numSeries))
                                            counts.field("numChunks", raw: String(block.numChunks))
                                        }
                                    }
                                    fields.field("compaction") { compaction in
                                        compaction.object { level in level.field("level", raw: String(block.compactionLevel)) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    private func entries(_ writer: inout JSONWriter, _ list: [HeadStatistics.Entry]) {
        writer.array { array in
            for entry in list {
                array.element { element in
                    element.object { object in
                        object.field("name", entry.name)
                        object.field("value", raw: String(entry.value))
                    }
                }
            }
        }
    }
}

func text(_ status: HTTPResponse.Status, _ body: String) -> Response {
    var buffer = ByteBuffer()
    buffer.writeString(body)
    return Response(status: status, headers: [.contentType: "text/plain; charset=utf-8"], body: ResponseBody(byteBuffer: buffer))
}
