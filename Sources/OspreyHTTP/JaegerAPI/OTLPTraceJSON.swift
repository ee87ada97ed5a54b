import OspreyModel

/// Spans as OTLP/JSON `TracesData`, as Jaeger's API v3 answers (`api_v3`'s HTTP gateway):
/// resource spans grouped by resource and scope, trace and span IDs in hex, 64-bit integers and
/// times as strings, enums (kind, status code) as integers.
enum OTLPTraceJSON {
    /// `{"resourceSpans": […]}` for `spans`.
    static func tracesData(_ spans: [SpanRecord], into writer: inout JSONWriter) {
        // Group by resource, then scope, keeping first-appearance order.
        var resources: [(Resource, [(InstrumentationScope, [SpanRecord])])] = []
        for span in spans {
            if let r = resources.firstIndex(where: { $0.0 == span.resource }) {
                if let s = resources[r].1.firstIndex(where: { $0.0 == span.scope }) {
                    resources[r].1[s].1.append(span)
                } else {
                    resources[r].1.append((span.scope, [span]))
                }
            } else {
                resources.append((span.resource, [(span.scope, [span])]))
            }
        }
        writer.object { object in
            object.field("resourceSpans") { list in
                list.array { array in
                    for (resource, scopes) in resources {
                        array.element { element in
                            element.object { resourceSpans in
                                resourceSpans.field("resource") { writer in
                                    writer.object { fields in
                                        fields.field("attributes") { attributes(&$0, resource.attributes) }
                                        if resource.droppedAttributesCount > 0 { fields.field("droppedAttributesCount", raw: String(resource.droppedAttributesCount)) }
                                    }
                                }
                                resourceSpans.field("scopeSpans") { list in
                                    list.array { array in
                                        for (scope, spans) in scopes {
                                            array.element { element in
                                                element.object { scopeSpans in
                                                    scopeSpans.field("scope") { writer in
                                                        writer.object { fields in
                                                            fields.field("name", scope.name)
                                                            fields.field("version", scope.version)
                                                            if !scope.attributes.isEmpty { fields.field("attributes") { attributes(&$0, scope.attributes) } }
                                                        }
                                                    }
                                                    scopeSpans.field("spans") { list in
                                                        list.array { array in for span in spans { array.element { self.span(span, into: &$0) } } }
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
        }
    }

    static func span(_ span: SpanRecord, into writer: inout JSONWriter) {
        writer.object { object in
            object.field("traceId", span.traceID.hex)
            object.field("spanId", span.spanID.hex)
            if !span.traceState.isEmpty { object.field("traceState", span.traceState) }
            if !span.parentSpanID.isZero { object.field("parentSpanId", span.parentSpanID.hex) }
            if span.flags != 0 { object.field("flags", raw: String(span.flags)) }
            object.field("name", span.name)
            object.field("kind", raw: String(span.kind.rawValue))
            object.field("startTimeUnixNano", String(span.startTimeUnixNano))
            object.field("endTimeUnixNano", String(span.endTimeUnixNano))
            object.field("attributes") { attributes(&$0, span.attributes) }
            if span.droppedAttributesCount > 0 { object.field("droppedAttributesCount", raw: String(span.droppedAttributesCount)) }
            object.field("events") { list in
                list.array { array in
                    for event in span.events {
                        array.element { element in
                            element.object { fields in
                                fields.field("timeUnixNano", String(event.timeUnixNano))
                                fields.field("name", event.name)
                                fields.field("attributes") { attributes(&$0, event.attributes) }
                            }
                        }
                    }
                }
            }
            object.field("links") { list in
                list.array { array in
                    for link in span.links {
                        array.element { element in
                            element.object { fields in
                                fields.field("traceId", link.traceID.hex)
                                fields.field("spanId", link.spanID.hex)
                                if !link.traceState.isEmpty { fields.field("traceState", link.traceState) }
                                fields.field("attributes") { attributes(&$0, link.attributes) }
                            }
                        }
                    }
                }
            }
            object.field("status") { writer in
                writer.object { fields in
                    if !span.status.message.isEmpty { fields.field("message", span.status.message) }
                    fields.field("code", raw: String(span.status.code.rawValue))
                }
            }
        }
    }

    static func attributes(_ writer: inout JSONWriter, _ list: [Attribute]) {
        writer.array { array in
            for attribute in list {
                array.element { element in
                    element.object { fields in
                        fields.field("key", attribute.key)
                        fields.field("value") { value(&$0, attribute.value) }
                    }
                }
            }
        }
    }

    static func value(_ writer: inout JSONWriter, _ value: AttributeValue) {
        writer.object { fields in
            switch value {
            case .string(let text): fields.field("stringValue", text)
            case .bool(let flag): fields.field("boolValue", raw: flag ? "true" : "false")
            case .int(let number): fields.field("intValue", String(number))
            case .double(let number):
                if number.isFinite { fields.field("doubleValue", raw: GoFloatFormat.g(number)) } else { fields.field("doubleValue", GoFloatFormat.g(number).replacingInf()) }
            case .bytes(let bytes): fields.field("bytesValue", JaegerJSON.base64(bytes))
            case .array(let values):
                fields.field("arrayValue") { writer in
                    writer.object { array in
                        array.field("values") { list in list.array { items in for item in values { items.element { self.value(&$0, item) } } } }
                    }
                }
            case .map(let entries):
                fields.field("kvlistValue") { writer in
                    writer.object { map in map.field("values") { attributes(&$0, entries) } }
                }
            case .empty: break
            }
        }
    }
}

extension String {
    /// Proto3 JSON's spelling of non-finite doubles.
    fileprivate func replacingInf() -> String {
        switch self {
        case "+Inf": return "Infinity"
        case "-Inf": return "-Infinity"
        default: return self
        }
    }
}
