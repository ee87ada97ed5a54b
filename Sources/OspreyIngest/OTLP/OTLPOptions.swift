/// How OTLP metric and attribute names become Prometheus names: Prometheus'
/// `otlp.translation_strategy`.
package enum OTLPTranslationStrategy: String, Hashable, Sendable, CaseIterable {
    /// Names reduced to `[a-zA-Z0-9_:]` with unit and type suffixes (`_seconds`, `_total`); the default.
    case underscoreEscapingWithSuffixes = "UnderscoreEscapingWithSuffixes"
    /// Names reduced to `[a-zA-Z0-9_:]`, no suffixes.
    case underscoreEscapingWithoutSuffixes = "UnderscoreEscapingWithoutSuffixes"
    /// UTF-8 names kept as they are, with unit and type suffixes.
    case noUTF8EscapingWithSuffixes = "NoUTF8EscapingWithSuffixes"
    /// Names kept exactly as sent: no escaping, no suffixes.
    case noTranslation = "NoTranslation"

    /// Whether names are reduced to the legacy character set.
    package var escapes: Bool { self == .underscoreEscapingWithSuffixes || self == .underscoreEscapingWithoutSuffixes }
    /// Whether unit and type suffixes are added.
    package var addsSuffixes: Bool { self == .underscoreEscapingWithSuffixes || self == .noUTF8EscapingWithSuffixes }
}

/// The `otlp:` section of the configuration, as Prometheus 3 has it, plus Osprey's delta handling.
package struct OTLPOptions: Hashable, Sendable {
    /// Name translation.
    package var translationStrategy: OTLPTranslationStrategy = .underscoreEscapingWithSuffixes
    /// Resource attributes copied onto every series of their resource.
    package var promoteResourceAttributes: [String] = []
    /// Copy every resource attribute onto the series, except ``ignoreResourceAttributes``.
    package var promoteAllResourceAttributes = false
    /// With ``promoteAllResourceAttributes``: the attributes not to copy.
    package var ignoreResourceAttributes: [String] = []
    /// Keep `service.name`, `service.namespace` and `service.instance.id` on `target_info` too.
    package var keepIdentifyingResourceAttributes = false
    /// Add `otel_scope_name`, `otel_scope_version`, `otel_scope_schema_url` and
    /// `otel_scope_<attribute>` labels.
    package var promoteScopeMetadata = false
    /// Convert delta sums and histograms to cumulative ones (per-series running totals);
    /// when false they are rejected, as Prometheus does without its delta feature flags.
    package var convertDeltaToCumulative = true
    /// The query lookback delta: `target_info` gets a sample every half of it across the
    /// time range of its resource's points, so that joins with it always find one.
    package var lookbackDeltaMs: Int64 = 5 * 60 * 1000

    /// Prometheus' defaults.
    package init() {}
}

/// Limits on what one OTLP request may contain.
package struct OTLPLimits: Hashable, Sendable {
    /// Most attributes per data point, resource or scope.
    package var attributeCountLimit = 128
    /// Longest attribute key in bytes (label names).
    package var attributeKeyLengthLimit = 1024
    /// Longest attribute value in bytes once rendered (label values).
    package var attributeValueLengthLimit = 64 * 1024
    /// Most data points per request.
    package var dataPointLimit = 1_000_000
    /// Most labels per series.
    package var labelLimit = 512
    /// Most buckets per histogram point (explicit bounds, or exponential buckets per side).
    package var bucketLimit = 4096

    /// Defaults.
    package init() {}
}
