import Foundation

/// A vision tower run on every core by splitting the batch, not the
/// matrices: each worker owns a tower (its own workspace; the weights are
/// shared, read-only) and embeds whole groups of images with single-threaded
/// BLAS calls, so nothing waits for anything until the batch is done.
///
/// Why not OpenBLAS's own threads: they split each GEMM and then wait for
/// each other, and every step between the GEMMs (layer norms, activations,
/// attention's softmax, biases) is a fork-join of its own; on 2 cores their
/// waiting in `sched_yield` took a fifth of the time. Here every step of a
/// group runs on one core, with its data in that core's cache.
///
/// Groups are handed out one at a time, so a worker whose core is taken by
/// other work simply embeds fewer of them. Each image's vector is the
/// single-tower result: the groups only split the images.
/// `@unchecked Sendable`: one batch at a time (the owning encoder's lock);
/// during a batch each tower is used by the one worker that took its index,
/// and the groups write disjoint rows of the output.
final class ParallelImageTower: ImageTower, @unchecked Sendable {
    /// The most images one `run` takes.
    let capacity: Int
    /// The most images one worker embeds in one forward pass.
    let groupSize: Int
    private let towers: [any ImageTower]
    private let valuesPerImage: Int, dimension: Int

    /// `workers` towers made by `make(groupSize)`, for batches of up to
    /// `capacity` images of `valuesPerImage` inputs and `dimension` outputs.
    init(capacity: Int, groupSize: Int, workers: Int, valuesPerImage: Int, dimension: Int,
         make: (_ groupCapacity: Int) -> any ImageTower) {
        self.capacity = max(1, capacity)
        self.groupSize = max(1, min(groupSize, self.capacity))
        self.valuesPerImage = valuesPerImage
        self.dimension = dimension
        let size = self.groupSize
        let count = max(1, min(workers, (self.capacity + size - 1) / size))
        towers = (0..<count).map { _ in make(size) }
    }

    /// The bytes of workspace the towers hold together.
    var workspaceBytes: Int { towers.reduce(0) { $0 + $1.workspaceBytes } }

    /// How many towers run side by side.
    var workers: Int { towers.count }

    func run(pixels: UnsafePointer<Float>, count: Int, output: UnsafeMutablePointer<Float>) {
        precondition(count >= 0 && count <= capacity, "ParallelImageTower: batch of \(count) exceeds capacity \(capacity)")
        guard count > 0 else { return }
        let workers = min(towers.count, count)
        if workers == 1 && count <= groupSize {
            // One group: a lone tower with OpenBLAS's threads beats one core.
            towers[0].run(pixels: pixels, count: count, output: output)
            return
        }
        // A multiple of the workers, as few as the towers' size allows, of equal sizes.
        let groups = workers * ((count + workers * groupSize - 1) / (workers * groupSize))
        let size = (count + groups - 1) / groups
        let per = valuesPerImage, dimension = self.dimension
        let shared = UncheckedSendable((pixels, output, towers))
        BLAS.withSingleThreadedCalls {
            // Cannot throw: only a report stops a queue, and this one has none.
            try! WorkQueue(count: groups).run(threads: workers) { worker, group in
                let (pixels, output, towers) = shared.value
                let first = group * size, n = min(size, count - first)
                if n > 0 { towers[worker].run(pixels: pixels + first * per, count: n, output: output + first * dimension) }
            }
        }
    }
}
