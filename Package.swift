// swift-tools-version: 6.1
import PackageDescription

let upcoming: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]
let optimized: [SwiftSetting] = upcoming + [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]

let package = Package(
    name: "osprey",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "osprey", targets: ["osprey"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.29.0"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.20.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.24.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.3.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.10.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.1.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
    ],
    targets: [
        // L0
        .target(name: "OspreyModel", swiftSettings: upcoming),
        .target(name: "OspreyEncoding", swiftSettings: optimized),
        // L1
        .target(name: "OspreyStorage", dependencies: ["OspreyModel"], swiftSettings: upcoming),
        // L2
        .target(
            name: "OspreyTSDB",
            dependencies: [
                "OspreyModel", "OspreyEncoding", "OspreyStorage",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: optimized
        ),
        // L3
        .target(name: "OspreyPromQLParser", dependencies: ["OspreyModel"], swiftSettings: upcoming),
        .target(name: "OspreyPromQL", dependencies: ["OspreyModel", "OspreyStorage", "OspreyPromQLParser"], swiftSettings: optimized),
        .target(
            name: "OspreyIngest",
            dependencies: ["OspreyModel", "OspreyEncoding", "OspreyStorage"],
            swiftSettings: optimized
        ),
        .target(
            name: "OspreyScrape",
            dependencies: [
                "OspreyModel", "OspreyStorage", "OspreyIngest",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTPCompression", package: "swift-nio-extras"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: upcoming
        ),
        // L4
        .target(
            name: "OspreyHTTP",
            dependencies: [
                "OspreyModel", "OspreyEncoding", "OspreyStorage", "OspreyIngest", "OspreyPromQLParser", "OspreyPromQL", "OspreyScrape",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: upcoming
        ),
        .target(
            name: "OspreyServer",
            dependencies: [
                "OspreyModel", "OspreyStorage", "OspreyTSDB", "OspreyHTTP", "OspreyScrape",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: upcoming
        ),
        // L5
        .executableTarget(
            name: "osprey",
            dependencies: [
                "OspreyServer", "OspreyTSDB", "OspreyStorage", "OspreyModel", "OspreyEncoding", "OspreyIngest", "OspreyPromQLParser",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: upcoming
        ),
        // Test support and tests
        .target(
            name: "OspreyTestSupport",
            dependencies: ["OspreyModel", "OspreyStorage", "OspreyPromQLParser", "OspreyPromQL"],
            swiftSettings: upcoming
        ),
        .testTarget(name: "OspreyModelTests", dependencies: ["OspreyModel"], swiftSettings: upcoming),
        .testTarget(name: "OspreyEncodingTests", dependencies: ["OspreyEncoding"], resources: [.copy("Fixtures")], swiftSettings: upcoming),
        .testTarget(name: "OspreyPromQLParserTests", dependencies: ["OspreyModel", "OspreyPromQLParser"], swiftSettings: upcoming),
        .testTarget(
            name: "OspreyPromQLTests",
            dependencies: ["OspreyModel", "OspreyStorage", "OspreyPromQL", "OspreyPromQLParser", "OspreyTSDB", "OspreyTestSupport"],
            exclude: ["testdata"],
            swiftSettings: upcoming
        ),
        .testTarget(name: "OspreyStorageTests", dependencies: ["OspreyModel", "OspreyStorage", "OspreyTestSupport"], swiftSettings: upcoming),
        .testTarget(name: "OspreyTSDBTests", dependencies: ["OspreyModel", "OspreyEncoding", "OspreyStorage", "OspreyTSDB", "OspreyTestSupport", .product(name: "Logging", package: "swift-log")], swiftSettings: upcoming),
        .testTarget(name: "OspreyIngestTests", dependencies: ["OspreyModel", "OspreyEncoding", "OspreyStorage", "OspreyIngest", "OspreyTestSupport"], resources: [.copy("Fixtures")], swiftSettings: upcoming),
        .testTarget(name: "OspreyScrapeTests", dependencies: ["OspreyModel", "OspreyStorage", "OspreyScrape", "OspreyTestSupport"], swiftSettings: upcoming),
        .testTarget(
            name: "OspreyHTTPTests",
            dependencies: ["OspreyModel", "OspreyStorage", "OspreyHTTP", "OspreyTestSupport"],
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "OspreyServerTests",
            dependencies: [
                "OspreyModel", "OspreyEncoding", "OspreyStorage", "OspreyIngest", "OspreyServer", "OspreyScrape", "OspreyTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: upcoming
        ),
    ]
)
