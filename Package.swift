// swift-tools-version:6.0
import PackageDescription

/// Settings shared by every Swift target (as Hummingbird does): an import is internal unless
/// it says `public import`, and a member is visible only in a file that imports its module, so
/// the compiler holds the layering.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

/// A curation program sees the wrapper layer and the argument parser only.
let cuDependencies: [Target.Dependency] = [
    "Wrappers",
    .product(name: "ArgumentParser", package: "swift-argument-parser"),
]

let package = Package(
    name: "wsa",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "wfcamsim", targets: ["WFCAMSim"]),
        .executable(name: "wsadb", targets: ["WSADB"]),
        .executable(name: "wsabench", targets: ["WSABench"]),
        .executable(name: "dbrpcserver", targets: ["DbRpcServer"]),
        .executable(name: "cu1", targets: ["CU01"]),
        .executable(name: "cu2", targets: ["CU02"]),
        .executable(name: "cu3", targets: ["CU03"]),
        .executable(name: "cu4", targets: ["CU04"]),
        .executable(name: "cu5", targets: ["CU05"]),
        .executable(name: "cu6", targets: ["CU06"]),
        .executable(name: "cu8", targets: ["CU08"]),
        .executable(name: "cu9", targets: ["CU09"]),
        .executable(name: "cu15", targets: ["CU15"]),
        .executable(name: "cu13", targets: ["CU13"]),
        .executable(name: "cu14", targets: ["CU14"]),
        .executable(name: "curate", targets: ["Curate"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        // C libraries: system library targets with module maps.
        .systemLibrary(name: "CCFITSIO", pkgConfig: "cfitsio",
                       providers: [.apt(["libcfitsio-dev"])]),
        .systemLibrary(name: "CWCSLIB", pkgConfig: "wcslib",
                       providers: [.apt(["wcslib-dev"])]),
        .systemLibrary(name: "CJPEG", pkgConfig: "libjpeg",
                       providers: [.apt(["libjpeg-dev"])]),
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq",
                       providers: [.apt(["libpq-dev"])]),

        // Foundations.
        .target(name: "SystemSupport", swiftSettings: swiftSettings),
        .target(name: "TransactionFormat",
                dependencies: ["SystemSupport", .product(name: "Crypto", package: "swift-crypto")],
                swiftSettings: swiftSettings),
        .target(name: "FITS", dependencies: ["CCFITSIO", "CWCSLIB"],
                swiftSettings: swiftSettings),
        .target(name: "Postgres", dependencies: ["CLibPQ", "SystemSupport", "TransactionFormat"],
                swiftSettings: swiftSettings),
        .target(name: "Curation",
                dependencies: [
                    "SystemSupport",
                    .product(name: "Logging", package: "swift-log"),
                    .product(name: "TOMLKit", package: "TOMLKit"),
                ],
                swiftSettings: swiftSettings),

        .target(name: "XMLRPC", swiftSettings: swiftSettings),

        // The one contract between DbHandler and dbrpcserver: method names, typed parameters and
        // results, fault codes, and the client's lease state machine.
        .target(name: "RPCContract", dependencies: ["XMLRPC", "SystemSupport"],
                swiftSettings: swiftSettings),

        // The load server's core (dbrpcserver): the write lease and its fence, in PostgreSQL.
        .target(name: "LoadServer",
                dependencies: ["Postgres", "XMLRPC", "Curation", "RPCContract", "TransactionFormat", "SystemSupport",
                               "AppDriver"],
                swiftSettings: swiftSettings),

        // The wrapper layer the CUs call (seed 004 §6), in four targets, each above the last; a CU
        // imports the top one, `Wrappers`, which re-exports the others.
        // AppDriver: external programs, and the layer's error type.
        .target(name: "AppDriver", dependencies: ["Curation", "SystemSupport", "RPCContract"],
                path: "Sources/Wrappers/AppDriver", swiftSettings: swiftSettings),
        // WrapperCore: DbHandler, QueryHandler, FitsReader, CompressHandler, the delivery area and
        // the ingest's rules.
        .target(name: "WrapperCore",
                dependencies: [
                    "AppDriver", "RPCContract", "TransactionFormat", "SystemSupport",
                    "Curation", "FITS", "Postgres", "XMLRPC", "CJPEG",
                    .product(name: "AsyncHTTPClient", package: "async-http-client"),
                    .product(name: "Logging", package: "swift-log"),
                ],
                path: "Sources/Wrappers/WrapperCore", swiftSettings: swiftSettings),
        // Drivers: StackDriver (SWarp), CatExDriver (source-extractor), DiaDriver, their files.
        .target(name: "Drivers",
                dependencies: ["WrapperCore", "AppDriver", "TransactionFormat", "SystemSupport", "Curation", "FITS"],
                path: "Sources/Wrappers/Drivers",
                resources: [.copy("Resources")],
                swiftSettings: swiftSettings),
        // Wrappers: what every CU shares (options, runs, steps, quarantine, the graph), and the
        // layer's face. The only wrapper target that sees swift-argument-parser.
        .target(name: "Wrappers",
                dependencies: [
                    "WrapperCore", "Drivers", "AppDriver", "SystemSupport", "Curation",
                    .product(name: "ArgumentParser", package: "swift-argument-parser"),
                    .product(name: "Logging", package: "swift-log"),
                ],
                path: "Sources/Wrappers/Program", swiftSettings: swiftSettings),

        // The curation programs (seed 004 §7) and the discovery tool (§8).
        .executableTarget(name: "CU01", dependencies: cuDependencies, swiftSettings: swiftSettings),
        .executableTarget(name: "CU02", dependencies: cuDependencies, swiftSettings: swiftSettings),
        .executableTarget(name: "CU03", dependencies: cuDependencies, swiftSettings: swiftSettings),
        .executableTarget(name: "CU04", dependencies: cuDependencies, swiftSettings: swiftSettings),
        .executableTarget(name: "CU05", dependencies: cuDependencies, swiftSettings: swiftSettings),
        .executableTarget(name: "CU06", dependencies: cuDependencies, swiftSettings: swiftSettings),
        .executableTarget(name: "CU08", dependencies: cuDependencies, swiftSettings: swiftSettings),
        .executableTarget(name: "CU09", dependencies: cuDependencies, swiftSettings: swiftSettings),
        .executableTarget(name: "CU15", dependencies: cuDependencies, swiftSettings: swiftSettings),
        .executableTarget(name: "CU13", dependencies: cuDependencies, swiftSettings: swiftSettings),
        .executableTarget(name: "CU14", dependencies: cuDependencies, swiftSettings: swiftSettings),
        .executableTarget(name: "Curate", dependencies: cuDependencies, swiftSettings: swiftSettings),

        // The load server daemon: XML-RPC over HTTP in front of LoadServer.
        .executableTarget(name: "DbRpcServer",
                          dependencies: [
                              "LoadServer", "RPCContract", "XMLRPC", "Postgres", "TransactionFormat", "Curation",
                              "SystemSupport",
                              .product(name: "Hummingbird", package: "hummingbird"),
                              .product(name: "HummingbirdTLS", package: "hummingbird"),
                              .product(name: "HTTPTypes", package: "swift-http-types"),
                              .product(name: "Prometheus", package: "swift-prometheus"),
                              .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                              .product(name: "Logging", package: "swift-log"),
                              .product(name: "ArgumentParser", package: "swift-argument-parser"),
                          ],
                          swiftSettings: swiftSettings),

        // Simulator of CASU deliveries.
        .target(name: "SimulatorKit", dependencies: ["FITS", "SystemSupport"],
                swiftSettings: swiftSettings),
        .executableTarget(name: "WFCAMSim",
                          dependencies: [
                              "SimulatorKit", "Curation",
                              .product(name: "ArgumentParser", package: "swift-argument-parser"),
                          ],
                          swiftSettings: swiftSettings),

        // Database administration: schema migrations.
        .executableTarget(name: "WSADB",
                          dependencies: [
                              "Postgres", "Curation",
                              .product(name: "Logging", package: "swift-log"),
                              .product(name: "ArgumentParser", package: "swift-argument-parser"),
                          ],
                          swiftSettings: swiftSettings),

        // Benchmarks (never run by `swift test`).
        .executableTarget(name: "WSABench",
                          dependencies: [
                              "FITS", "Postgres", "TransactionFormat", "Curation", "SimulatorKit", "WrapperCore",
                              "Drivers", "AppDriver", "SystemSupport",
                              .product(name: "ArgumentParser", package: "swift-argument-parser"),
                          ],
                          swiftSettings: swiftSettings),

        // Tests.
        .target(name: "TestSupport",
                dependencies: ["Postgres", "LoadServer", "FITS", "SimulatorKit", "AppDriver", "SystemSupport"],
                path: "Tests/TestSupport", swiftSettings: swiftSettings),
        .testTarget(name: "FITSTests", dependencies: ["FITS", "SystemSupport", "TestSupport"],
                    swiftSettings: swiftSettings),
        .testTarget(name: "PostgresTests", dependencies: ["Postgres", "TransactionFormat", "SystemSupport", "TestSupport"],
                    swiftSettings: swiftSettings),
        .testTarget(name: "CurationTests", dependencies: ["Curation", "SystemSupport", "TestSupport"],
                    swiftSettings: swiftSettings),
        .testTarget(name: "LoadServerTests",
                    dependencies: ["LoadServer", "RPCContract", "Postgres", "TransactionFormat", "SystemSupport", "TestSupport"],
                    swiftSettings: swiftSettings),
        .testTarget(name: "WrappersTests",
                    dependencies: ["WrapperCore", "Drivers", "AppDriver", "RPCContract", "TransactionFormat",
                                   "SystemSupport", "Curation", "SimulatorKit", "FITS", "Postgres", "TestSupport"],
                    swiftSettings: swiftSettings),
        .testTarget(name: "DbRpcServerTests",
                    dependencies: ["LoadServer", "WrapperCore", "AppDriver", "RPCContract", "TransactionFormat", "SystemSupport",
                                   "Postgres", "Curation", "XMLRPC", "TestSupport"],
                    swiftSettings: swiftSettings),
        .testTarget(name: "CurationProgramTests",
                    dependencies: ["WrapperCore", "Drivers", "AppDriver", "Wrappers", "TransactionFormat", "SystemSupport",
                                   "Curation", "SimulatorKit", "FITS", "Postgres", "TestSupport"],
                    swiftSettings: swiftSettings),
        .testTarget(name: "SystemSupportTests", dependencies: ["SystemSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "RPCContractTests", dependencies: ["RPCContract", "XMLRPC", "SystemSupport"],
                    swiftSettings: swiftSettings),
        .testTarget(name: "XMLRPCTests", dependencies: ["XMLRPC", "SystemSupport", "TestSupport"],
                    swiftSettings: swiftSettings),
        .testTarget(name: "SimulatorTests", dependencies: ["SimulatorKit", "FITS", "TestSupport"],
                    swiftSettings: swiftSettings),
    ]
)
