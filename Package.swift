// swift-tools-version: 6.0
// podd: a single-machine pod supervisor. The module graph mirrors the architecture:
//   PodModel (pure: manifests, validation, status, lifecycle state machine)
//   CPodShim (C: the syscalls Swift's Glibc lacks) -> PodOS (epoll reactor, pidfds, cgroups, files)
//   PodImages (references, OCI documents, the image store, the registry client; CImageCodecs)
//   PodNetwork (CNI: pod networks, hosts and resolv.conf files)
//   PodRuntime (pod store, supervisor driving per-pod monitors, pulls, ConfigMaps/Secrets)
//   PodAPI (HTTP/JSON, WebSocket and SPDY API on a Unix socket)   PodCtlKit (the podctl CLI)
//   CSystemd (libsystemd, pkg-config) -> PodSystemd (sd_notify, socket activation, journal logging)
//   podd, podctl: thin executables.  The per-pod monitor (Sources/podd-monitor) is plain C,
//   built static by the Makefile so that it costs well under 1 MB per pod.
import PackageDescription

let package = Package(
    name: "podd",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "podd", targets: ["podd"]),
        .executable(name: "podctl", targets: ["podctl"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.81.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.0.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        // 1.16: LogHandler.log(event:), which PodSystemd's journal handler implements.
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.0.0"),
        // TLS to image registries (PodImages/Distribution), with the system's CA bundle.
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.0"),
        // HTTP/2 for gRPC probes (PodRuntime/Net/GRPCHealthClient).
        .package(url: "https://github.com/apple/swift-nio-http2.git", from: "1.46.0"),
    ],
    targets: [
        // JSON and YAML for podd and podctl alike: one parser, one writer, one YAML reading.
        .target(
            name: "PodJSON",
            dependencies: [.product(name: "Yams", package: "Yams")]
        ),
        .target(
            name: "PodModel",
            dependencies: ["PodJSON"]
        ),
        .target(name: "CPodShim"),
        // What images need from C libraries Debian ships (the -dev packages): libcrypto's
        // SHA-256, zlib and zstd.
        .target(name: "CImageCodecs",
                linkerSettings: [.linkedLibrary("crypto"), .linkedLibrary("z"), .linkedLibrary("zstd")]),
        // Images: references, OCI documents and layouts, the store, archives, registries.
        .target(name: "PodImages", dependencies: ["PodJSON", "CImageCodecs",
                                                  // Distribution/: the registry client.
                                                  .product(name: "NIOCore", package: "swift-nio"),
                                                  .product(name: "NIOPosix", package: "swift-nio"),
                                                  .product(name: "NIOHTTP1", package: "swift-nio"),
                                                  .product(name: "NIOSSL", package: "swift-nio-ssl")]),
        .target(
            name: "PodOS",
            dependencies: ["CPodShim", "PodModel", .product(name: "Logging", package: "swift-log")]
        ),
        // CNI: the pods' network (plugins run as the CNI spec says, attachments saved per pod).
        .target(
            name: "PodNetwork",
            dependencies: ["PodJSON", "PodOS", "CPodShim"]
        ),
        .target(
            name: "PodRuntime",
            dependencies: ["PodModel", "PodOS", "PodNetwork", "CPodShim", "PodImages", .product(name: "Logging", package: "swift-log"),
                           // DaemonHTTPClient: probes', hooks' and healthz's HTTP (Net/);
                           // GRPCHealthClient: gRPC probes' HTTP/2.
                           .product(name: "NIOCore", package: "swift-nio"),
                           .product(name: "NIOPosix", package: "swift-nio"),
                           .product(name: "NIOHTTP1", package: "swift-nio"),
                           .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                           .product(name: "NIOHPACK", package: "swift-nio-http2"),
                           // HTTPS probes and hooks (kubelet's: TLS without verification).
                           .product(name: "NIOSSL", package: "swift-nio-ssl")]
        ),
        .target(
            name: "PodAPI",
            // HTTP lives here alone; every OS job (files, sockets, terminals) is PodRuntime's.
            dependencies: [
                "PodModel", "PodRuntime", "PodImages", "CZlib",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            // docs/openapi.yaml, embedded: /openapi/v2 and /openapi/v3 are made from it.
            plugins: ["EmbedOpenAPI"]
        ),
        .executableTarget(name: "OpenAPIEmbedder"),
        .plugin(name: "EmbedOpenAPI", capability: .buildTool(), dependencies: ["OpenAPIEmbedder"]),
        // zlib, for SPDY/3's compressed header blocks (kubectl's port-forward, exec and attach).
        .systemLibrary(name: "CZlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(
            name: "CSystemd",
            pkgConfig: "libsystemd",
            providers: [.apt(["libsystemd-dev"])]
        ),
        .target(
            name: "PodSystemd",
            dependencies: ["CSystemd", .product(name: "Logging", package: "swift-log")]
        ),
        .target(
            name: "PodDaemon",
            dependencies: ["PodAPI", "PodRuntime", "PodNetwork", "PodModel", "PodOS", "CPodShim", "PodSystemd", "PodImages",
                           .product(name: "Logging", package: "swift-log"),
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")]
        ),
        .target(
            name: "PodCtlKit",
            dependencies: [
                "PodModel",
                // port-forward's handoff and splice relay (SCM_RIGHTS, splice(2)).
                "CPodShim",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "podd",
            dependencies: [
                "PodDaemon", "PodRuntime", "PodModel", "PodSystemd",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // podctl in release is a fully static executable: no dynamic loader, no relocation of
        // the Swift runtime and Foundation at each start. Its start-up (exec's fast path to the
        // connect) went from 4.8 to 1.5 ms of CPU here, most of `podctl exec POD -- true`.
        .executableTarget(name: "podctl", dependencies: ["PodCtlKit"],
                          linkerSettings: [.unsafeFlags(["-static-executable"], .when(configuration: .release))]),
        // make bench's registry pull through RegistryFetcher alone (scripts/bench_registry.py).
        .executableTarget(name: "podd-pull-bench", dependencies: ["PodImages"]),
        .testTarget(name: "PodModelTests", dependencies: ["PodModel", "PodJSON"]),
        .testTarget(name: "PodImagesTests", dependencies: ["PodImages", "PodJSON"]),
        .testTarget(name: "PodRuntimeTests", dependencies: ["PodRuntime", "PodModel", "PodOS", "PodImages",
                                                            .product(name: "Logging", package: "swift-log")]),
        // PodOS only for the reactor a log stream takes: the tests read real files.
        .testTarget(name: "PodAPITests", dependencies: ["PodAPI", "PodRuntime", "PodModel", "PodOS",
                                                        .product(name: "NIOHTTP1", package: "swift-nio")]),
        .testTarget(name: "PodCtlKitTests", dependencies: ["PodCtlKit", "PodModel"]),
        .testTarget(name: "PodNetworkTests", dependencies: ["PodNetwork", "PodJSON"]),
        .testTarget(name: "PodOSTests", dependencies: ["PodOS", "CPodShim"]),
        .testTarget(name: "PodDaemonTests", dependencies: ["PodDaemon", "PodRuntime", "PodOS", "PodModel"]),
        .testTarget(name: "PodSystemdTests", dependencies: ["PodSystemd", "PodRuntime",
                                                            .product(name: "Logging", package: "swift-log")]),
    ],
    swiftLanguageModes: [.v6]
)
