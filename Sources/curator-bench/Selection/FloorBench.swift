// What the machine allows K-Means (scripts/bench/kmeans reads the floors
// from it): the sgemm rate of the assignment's shape and the memory read rate.
import ArgumentParser
import CuratorCore
import Foundation

/// `curator-bench floor`: blocks of 4,096 rows against 200 centroids of 768
/// (one single-threaded sgemm per core, as K-Means' passes run them), and
/// every core reading its share of 1 GiB; the best of three of each.
struct FloorBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "floor", abstract: "Measure the sgemm rate and memory read rate K-Means' floors are computed from.")

    func run() throws {
        let clock = ContinuousClock()
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let (blockRows, centroids, depth, calls) = (4096, 200, 768, 10)
        let x = UnsafeMutablePointer<Float>.allocate(capacity: cores * blockRows * depth)
        let c = UnsafeMutablePointer<Float>.allocate(capacity: centroids * depth)
        let s = UnsafeMutablePointer<Float>.allocate(capacity: cores * blockRows * centroids)
        defer { x.deallocate(); c.deallocate(); s.deallocate() }
        for i in 0..<(cores * blockRows * depth) { x[i] = Float(i % 7) * 0.1 }
        for i in 0..<(centroids * depth) { c[i] = Float(i % 5) * 0.1 }
        let shared = UncheckedSendable((x, c, s))
        var best = Double.infinity
        for _ in 0..<3 {
            let t = BLAS.withSingleThreadedCalls {
                clock.measure {
                    DispatchQueue.concurrentPerform(iterations: cores) { core in
                        let (x, c, s) = shared.value
                        for _ in 0..<calls {
                            BLAS.gemm(transposeB: true, m: blockRows, n: centroids, k: depth,
                                      a: x + core * blockRows * depth, lda: depth, b: c, ldb: depth,
                                      c: s + core * blockRows * centroids, ldc: centroids)
                        }
                    }
                }
            }
            best = min(best, t.seconds)
        }
        let floats = 1 << 28
        let big = UnsafeMutablePointer<Float>.allocate(capacity: floats)
        let totals = UnsafeMutablePointer<Float>.allocate(capacity: cores)
        defer { big.deallocate(); totals.deallocate() }
        big.initialize(repeating: 1, count: floats)
        let memory = UncheckedSendable((big, totals))
        var bestRead = Double.infinity
        for _ in 0..<3 {
            let t = clock.measure {
                DispatchQueue.concurrentPerform(iterations: cores) { core in
                    let (big, totals) = memory.value
                    let part = floats / cores
                    let p = UnsafeRawPointer(big + core * part)
                    var sum = SIMD16<Float>()
                    for i in stride(from: 0, to: part - 15, by: 16) {
                        sum += p.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
                    }
                    totals[core] = sum.sum()
                }
            }
            bestRead = min(bestRead, t.seconds)
        }
        BenchOutput.emit(["cores": cores,
                          "gemm_flops": Double(cores * calls * 2 * blockRows * centroids * depth) / best,
                          "read_bytes_per_second": Double(floats * 4) / bestRead,
                          "checksum": Double((0..<cores).map { totals[$0] }.reduce(0, +))])
    }
}
