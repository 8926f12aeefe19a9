// swift-tools-version:6.0
import PackageDescription

/// Our own targets build with warnings as errors (docs/style.md, rule 9); dependencies are not affected.
let strict: [SwiftSetting] = [.enableUpcomingFeature("ExistentialAny"), .unsafeFlags(["-warnings-as-errors"])]

let package = Package(
    name: "agentledger",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "agentledger", targets: ["agentledger"])
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/vapor/sqlite-nio.git", from: "1.13.2"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/adam-fowler/compress-nio.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0"),
        .package(url: "https://github.com/modelcontextprotocol/swift-sdk.git", from: "0.12.1"),
        // Brings apple/swift-metrics (2.13.0), whose handler protocols its metric types implement. Metrics are made on the
        // registry directly: swift-metrics' factory registers them without `# HELP` (docs/operations.md, "Metrics").
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        // The wire format. Pure Swift, no dependencies, so the fuzzer can compile it alone.
        .target(name: "LedgerProtocol", path: "Sources/Protocol", swiftSettings: strict),
        // What a provider's wire format is (its paths, how its streams report usage, where admission reads a
        // request), one description each, read by both halves so they cannot disagree. No dependencies, no I/O.
        .target(name: "LedgerProviders", path: "Sources/Providers", swiftSettings: strict),
        // Counters on swift-prometheus registries (one registry per component instance), shared by both halves.
        .target(
            name: "LedgerMetrics",
            dependencies: [.product(name: "Prometheus", package: "swift-prometheus")], path: "Sources/Metrics",
            swiftSettings: strict),
        // The frame codec as SwiftNIO handlers: the one piece of I/O glue both sides share.
        .target(
            name: "LedgerProtocolNIO",
            dependencies: [
                "LedgerProtocol", .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            path: "Sources/ProtocolNIO",
            swiftSettings: strict
        ),
        // Asking for admission over a link: ADMIT out, VERDICT back, matched by request id, with a timeout. The
        // sidecar asks its collector; a collector that is not the enforcer asks the enforcer (docs/operations.md).
        .target(
            name: "LedgerAdmission",
            dependencies: [
                "LedgerProtocol", "LedgerMetrics", .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Sources/Admission",
            swiftSettings: strict
        ),
        .target(
            name: "Sidecar",
            dependencies: [
                "LedgerProtocol", "LedgerProtocolNIO", "LedgerMetrics", "LedgerProviders", "LedgerAdmission",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // OTLP's messages (opentelemetry-proto), generated once by scripts/generate-otlp and committed: no build plugin.
        .target(
            name: "OTLPProto", dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")],
            path: "Sources/OTLPProto"),
        // libdeflate 1.26 (MIT; Sources/CLibDeflate/README.md), its gzip compressor only: OTLP export bodies at about
        // half zlib's instructions per byte, with no library to install on the build machine.
        .target(
            name: "CLibDeflate", path: "Sources/CLibDeflate", exclude: ["COPYING", "README.md"],
            sources: [
                "lib/deflate_compress.c", "lib/gzip_compress.c", "lib/crc32.c", "lib/utils.c", "lib/x86/cpu_features.c",
                "lib/arm/cpu_features.c",
            ]),
        // Per-thread scheduling (sched_setattr has no glibc wrapper): the store's thread below the proxy's.
        .target(name: "CThreadTuning", path: "Sources/CThreadTuning"),
        .target(
            name: "Collector",
            dependencies: [
                "LedgerProtocol", "LedgerProtocolNIO", "LedgerMetrics", "LedgerProviders", "LedgerAdmission", "OTLPProto",
                "CLibDeflate", "CThreadTuning",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "MCP", package: "swift-sdk"),
                .product(name: "Yams", package: "Yams"),
            ],
            // The dashboard's files are compiled into the binary (`PackageResources`): served with no bundle, air-gapped.
            resources: [.embedInCode("Dashboard/Assets")],
            swiftSettings: strict
        ),
        // `agentledger inject`: the native sidecar added to Kubernetes workloads, YAML in and out. No I/O.
        .target(
            name: "LedgerInject", dependencies: [.product(name: "Yams", package: "Yams")], path: "Sources/Inject",
            swiftSettings: strict),
        // A scriptable LLM upstream (OpenAI chat, Anthropic messages) for tests, benchmarks and the demo.
        .target(
            name: "MockUpstream",
            dependencies: [
                "LedgerProtocol",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "agentledger",
            dependencies: [
                "Sidecar", "Collector", "MockUpstream", "LedgerProtocol", "LedgerProtocolNIO", "LedgerInject", "LedgerMetrics",
                "LedgerAdmission", "CThreadTuning",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "MCP", package: "swift-sdk"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // Test plumbing shared by every test target: bounded waits, quiet loggers, service runners.
        .target(
            name: "LedgerTestSupport",
            dependencies: [
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Tests/Support"
        ),
        .testTarget(name: "LedgerProtocolTests", dependencies: ["LedgerProtocol", "LedgerTestSupport"]),
        .testTarget(name: "LedgerProvidersTests", dependencies: ["LedgerProviders"]),
        .testTarget(name: "InjectTests", dependencies: ["LedgerInject", .product(name: "Yams", package: "Yams")]),
        .testTarget(
            name: "SidecarTests",
            dependencies: [
                "Sidecar", "MockUpstream", "LedgerProtocol", "LedgerProtocolNIO", "LedgerProviders", "LedgerTestSupport",
                "LedgerMetrics", "LedgerAdmission", .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "CollectorTests",
            dependencies: [
                "Collector", "Sidecar", "LedgerProtocol", "LedgerProtocolNIO", "LedgerMetrics", "LedgerProviders",
                "LedgerAdmission", "LedgerTestSupport", "OTLPProto", "CThreadTuning",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "MCP", package: "swift-sdk"),
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
            ]
        ),
    ]
)
