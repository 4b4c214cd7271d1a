import ArgumentParser

/// The benchmark driver of `scripts/bench/*`: one executable, one subcommand
/// per measured operation, each printing its results as JSON lines
/// (`BenchOutput`). Not part of the product and not a test: it measures
/// release builds. Each family of subcommands lives in its own folder here
/// (Index, Selection, Map, CLIP, Words, Pixels, Thumbnails, Parquet).
@main
struct CuratorBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "curator-bench",
        abstract: "Benchmark drivers for scripts/bench; every result is one JSON line on standard output.",
        subcommands: [
            MakeIndex.self, OpenIndex.self,
            Select.self, Coverage.self, BalanceBench.self, NeighborsBench.self, HDBSCANBench.self, GEMMBench.self, FloorBench.self,
            UMAPLayout.self, UMAPRecall.self, UMAPUpdate.self, Plot.self,
            EncodeImages.self, EncodePixels.self, EncodeText.self, Search.self, PromptSelect.self,
            Pixels.self, Describe.self, Thumbnails.self, ParquetRead.self,
        ]
    )
}
