// swift-tools-version:6.0
import PackageDescription

/// BLAS comes from OpenBLAS on Linux (opened with dlopen on first use, see
/// Sources/CuratorCore/Linear/BLAS.swift) and from Accelerate on Apple platforms.
let linuxOnly = TargetDependencyCondition.when(platforms: [.linux])

let package = Package(
    name: "curator",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "curator", targets: ["curator"]),
        .library(name: "CuratorCore", targets: ["CuratorCore"]),
        .library(name: "CuratorLua", targets: ["CuratorLua"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", exact: "0.9.20"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", exact: "2.28.1"),
        // Hummingbird's own; named for NIOCore's Channel (the bound port).
        .package(url: "https://github.com/apple/swift-nio", exact: "2.101.3"),
        // Hummingbird's own; its Application logs through it (kept quiet in the REPL).
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        // Hummingbird's own; named for HTTPField (header names the page's script sends).
        .package(url: "https://github.com/apple/swift-http-types", exact: "1.8.0"),
        // Hummingbird's own; named for ServiceGroup, whose graceful shutdown stops the server
        // (cancelling its task instead traps in SwiftNIO when a connection is still queued).
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", exact: "2.13.0"),
    ],
    targets: [
        // System libraries, found through pkg-config.
        .systemLibrary(name: "CLua", pkgConfig: "lua5.4",
                       providers: [.apt(["liblua5.4-dev"]), .brew(["lua"])]),
        .systemLibrary(name: "CReadline", pkgConfig: "readline",
                       providers: [.apt(["libreadline-dev"]), .brew(["readline"])]),
        .systemLibrary(name: "CVips", pkgConfig: "vips",
                       providers: [.apt(["libvips-dev"]), .brew(["vips"])]),
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CChafa", pkgConfig: "chafa",
                       providers: [.apt(["libchafa-dev"]), .brew(["chafa"])]),
        // Only for the check of CurlAPI.h against libcurl's header (curator opens libcurl on first use).
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl",
                       providers: [.apt(["libcurl4-openssl-dev"]), .brew(["curl"])]),

        // Small C layers where Swift cannot go: Lua's longjmp-based errors and
        // libvips' variadic API. CVipsShims opens libvips with dlopen on first
        // use and declares the API it needs itself (VipsAPI.h): depending on
        // CVips would link libvips and its ~90 libraries into curator's start.
        .target(name: "CLuaShims", dependencies: ["CLua", "CReadline"]),
        // Opening a library on first use (the file $CURATOR_LIB... names, or the usual places).
        .target(name: "CLibraryLoader"),
        .target(name: "CVipsShims", dependencies: ["CLibraryLoader"]),
        // Checks VipsAPI.h against the real libvips headers; built with the tests.
        .target(name: "CVipsAPICheck", dependencies: ["CVips"]),
        // libchafa (terminal pictures) is opened the same way, on the first
        // contact sheet (ChafaAPI.h), and checked the same way.
        .target(name: "CChafaShims", dependencies: ["CLibraryLoader"]),
        .target(name: "CChafaAPICheck", dependencies: ["CChafa"]),
        // libcurl (model downloads) is opened the same way, on the first download (CurlAPI.h).
        .target(name: "CCurlShims", dependencies: ["CLibraryLoader"]),
        .target(name: "CCurlAPICheck", dependencies: ["CCurl"]),
        // C functions over libsentencepiece's C++ SentencePieceProcessor, for
        // SigLIP's tokenizers (Debian: libsentencepiece-dev). Linked, not
        // opened on first use: its API is C++ classes, which dlsym cannot reach.
        .target(name: "CSentencePieceShims", linkerSettings: [.linkedLibrary("sentencepiece")]),

        // The int8 scan of large searches, with an AVX2 body chosen at run time.
        .target(name: "CKernels"),
        .target(
            name: "CuratorCore",
            dependencies: [
                "CVipsShims", "CChafaShims", "CCurlShims", "CSentencePieceShims", "CKernels",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ]
        ),
        // The review page's HTTP server (issue 16): its own target so that
        // CuratorCore stays free of SwiftNIO; nothing in it runs until a review starts.
        .target(
            name: "CuratorReview",
            dependencies: [
                "CuratorCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "CuratorLua",
            dependencies: ["CuratorCore", "CuratorReview", "CLuaShims", "CReadline"]
        ),
        .executableTarget(
            name: "curator",
            dependencies: [
                "CuratorCore", "CuratorLua", "CuratorReview",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The benchmark driver of scripts/bench (not a product): one subcommand per benchmark.
        .executableTarget(
            name: "curator-bench",
            dependencies: [
                "CuratorCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The libFuzzer harness of scripts/fuzz (not a product). Built as it
        // is here, it replays the files named on its command line through the
        // readers, so every build checks that the harness still compiles.
        .executableTarget(
            name: "curator-fuzz",
            dependencies: ["CuratorCore"],
            path: "Tests/Fuzz",
            exclude: ["corpus"]
        ),
        .testTarget(
            name: "CuratorReviewTests",
            dependencies: ["CuratorReview", "CuratorCore", "CVipsShims"]
        ),
        .testTarget(
            name: "CuratorLuaTests",
            dependencies: ["CuratorLua", "CuratorCore", "CLuaShims"]
        ),
        .testTarget(
            name: "CuratorCoreTests",
            // CVipsShims: tests write their own images (PNG, JPEG, CMYK, 16-bit) with libvips.
            // CVipsAPICheck, CChafaAPICheck, CCurlAPICheck, CBLAS: the declarations that replace
            // libvips', libchafa's, libcurl's and OpenBLAS's headers are checked against the installed ones.
            dependencies: ["CuratorCore", "CVipsShims", "CVipsAPICheck", "CChafaAPICheck", "CCurlAPICheck",
                           .target(name: "CBLAS", condition: linuxOnly)],
            resources: [.copy("Fixtures")]
        ),
    ]
)
