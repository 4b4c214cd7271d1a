import ArgumentParser
import CuratorCore
import Foundation

/// `curator-bench balance MATRIX ROWS DIM --labels FILE --count N`: balanced
/// selection (`a:select{balance=}`'s path: `SelectionBalance`) with a
/// matrix's hidden cluster labels as the strata (one int32 per row, as
/// make_synthetic_index.py writes them; −1, its outliers, form the
/// "unknown" stratum). Reports the time, and per stratum its quota and how
/// many images the selection and each iteration gave it: the issue's "every
/// stratum its quota ±1".
struct BalanceBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "balance", abstract: "Balanced selection with hidden labels as strata: quota against selected per stratum.")

    @OptionGroup var matrix: RawMatrixInput
    @Option(help: "One int32 label per row (-1: no label).") var labels: String
    @Option var count: Int
    @Option var method: Select.Method = .fps
    @Option(help: "equal or proportional.") var mode = "equal"
    @Option var iterations = 20
    @Option var seed: UInt64 = 1

    func run() throws {
        let matrix = try self.matrix.read(normalized: false)
        let data = try Data(contentsOf: URL(fileURLWithPath: labels))
        guard data.count == matrix.rows * 4 else { throw BenchError("\(labels): expected \(matrix.rows) int32 labels") }
        let values = data.withUnsafeBytes { Array($0.bindMemory(to: Int32.self)) }
        var rowsOf: [Int32: [Int]] = [:]
        for (row, label) in values.enumerated() { rowsOf[max(-1, label), default: []].append(row) }
        let keys = rowsOf.keys.filter { $0 >= 0 }.sorted() + (rowsOf[-1] == nil ? [] : [-1])
        let names = keys.map { $0 < 0 ? SelectionStratum.unknown : "cluster \($0)" }
        let strata = keys.map { rowsOf[$0]! }
        guard let balanceMode: BalanceMode = ["equal": .equal, "proportional": .proportional][mode] else {
            throw BenchError("--mode: equal or proportional")
        }
        let (quotas, notes) = SelectionBalance.quotas(names: names, sizes: strata.map(\.count), count: count, mode: balanceMode)
        let sampler: any Sampler = switch method {
        case .fps: FarthestPointSampler()
        case .kmeans: KMeansSampler()
        case .facility: FacilityLocationSampler()
        }
        var balanced: (run: SelectionRun, voted: [[Int64]])?
        let seconds = try ContinuousClock().measure {
            balanced = try SelectionBalance.run(sampler, matrix: matrix, strata: strata, quotas: quotas,
                                                iterations: iterations, seed: seed)
        }.seconds
        let records = strata.indices.map { s in
            SelectionStratum(name: names[s], candidates: strata[s].count, quota: quotas[s], note: notes[s], voted: balanced!.voted[s])
        }
        let selection = SelectionBalance.selection(ranking: balanced!.run.ranking.map(\.image), strata: records)
        var stratumOf = [Int](repeating: 0, count: matrix.rows)
        for (s, rows) in strata.enumerated() { for row in rows { stratumOf[row] = s } }
        func perStratum(_ images: [Int64]) -> [Int] {
            var counts = [Int](repeating: 0, count: strata.count)
            for image in images { counts[stratumOf[Int(image)]] += 1 }
            return counts
        }
        let selected = perStratum(selection)
        let worstIteration = balanced!.run.picks.map { picks in
            zip(perStratum(picks), quotas).map { abs($0 - $1) }.max() ?? 0
        }.max() ?? 0
        BenchOutput.emit(["rows": matrix.rows, "count": count, "method": method.rawValue, "mode": mode,
                          "iterations": iterations, "strata": strata.count, "seconds": seconds,
                          "selected": selection.count, "quota_total": quotas.reduce(0, +),
                          "max_deviation": zip(selected, quotas).map { abs($0 - $1) }.max() ?? 0,
                          "max_iteration_deviation": worstIteration,
                          "strata_below_quota": zip(selected, quotas).filter { $0 < $1 }.count,
                          "quotas": quotas, "selected_per_stratum": selected])
    }
}
