import ArgumentParser
import CuratorCore
import Foundation

/// `curator-bench parquet-read FILE`: times reading string columns of a
/// Parquet file with curator's reader (footer, pages, decompression,
/// decoding into `ParquetStrings`), best of `rounds`; for scripts/bench/parquet.
struct ParquetRead: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parquet-read",
        abstract: "Read string columns of a Parquet file; report the best wall and CPU seconds.")

    @Argument var file: String
    @Option(name: .customLong("column"), help: "A column to read (repeatable).") var columns: [String] = ["image_path"]
    @Option(help: "Rounds; the best is reported.") var rounds = 3

    func run() throws {
        var wall = Double.infinity, cpu = Double.infinity
        var bytes = 0, rows = 0
        for _ in 0..<rounds {
            let t = Date(), c = clock()
            let parquet = try ParquetFile(contentsOf: URL(fileURLWithPath: file))
            bytes = 0
            for column in columns {
                let values = try parquet.strings(column, maximumRows: parquet.rowCount)
                rows = values.count
                for row in stride(from: 0, to: values.count, by: max(1, values.count / 1000)) { bytes += values[row]?.count ?? 0 }
            }
            wall = min(wall, Date().timeIntervalSince(t))
            cpu = min(cpu, Double(clock() - c) / Double(CLOCKS_PER_SEC))
        }
        BenchOutput.emit(["reader": "curator", "rows": rows, "columns": columns, "wall_seconds": wall,
                          "cpu_seconds": cpu, "sampled_bytes": bytes])
    }
}
