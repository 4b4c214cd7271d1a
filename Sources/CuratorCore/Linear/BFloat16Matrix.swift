import CKernels
import Foundation

/// A Linear layer's weight matrix (outputs × inputs, as the layer stores it)
/// rounded to bfloat16 and packed once, for products with AVX512_BF16
/// (`curator_bf16_gemm`, CKernels/BFloat16GEMM.c): twice the multiply-adds
/// per instruction of float32's FMAs, and no repacking of the weights per
/// product as a BLAS does. Each operand loses its bits past the 8th
/// significant one; products and sums stay float32.
/// `@unchecked Sendable`: the packed values are written once, in `init`, and only read after.
final class BFloat16Matrix: @unchecked Sendable {
    /// Whether this processor has AVX512_BF16 (checked once). Without it the
    /// products would run a plain C body far slower than float32's BLAS, so
    /// nothing should make a `BFloat16Matrix` there.
    static var isSupported: Bool { curator_bf16_supported() != 0 }

    /// The layer's outputs (the matrix's rows) and inputs (its columns).
    let outputs: Int, inputs: Int
    private let packed: UnsafeMutablePointer<UInt16>
    private let panelValues: Int

    /// Stacks `parts` (each `rows` × `inputs` float32 values, row-major) into
    /// one matrix, their outputs side by side in that order (e.g. a block's
    /// query, key and value projections, multiplied as one), rounded and packed.
    init(stacking parts: [(values: UnsafePointer<Float>, rows: Int)], inputs: Int) {
        let outputs = parts.reduce(0) { $0 + $1.rows }
        precondition(outputs > 0 && inputs > 0, "BFloat16Matrix: empty matrix")
        self.outputs = outputs
        self.inputs = inputs
        panelValues = curator_bf16_panel_values(inputs)
        let count = curator_bf16_packed_values(outputs, inputs)
        let raw = UnsafeMutableRawPointer.allocate(byteCount: 2 * count, alignment: 64)
        packed = raw.bindMemory(to: UInt16.self, capacity: count)
        // One part is packed in place; several are first copied one after another.
        let stacked: UnsafePointer<Float>
        var copy: UnsafeMutablePointer<Float>?
        if parts.count == 1 {
            stacked = parts[0].values
        } else {
            let joined = UnsafeMutablePointer<Float>.allocate(capacity: outputs * inputs)
            var row = 0
            for part in parts {
                (joined + row * inputs).update(from: part.values, count: part.rows * inputs)
                row += part.rows
            }
            copy = joined
            stacked = UnsafePointer(joined)
        }
        defer { copy?.deallocate() }
        // Panels of 32 outputs are independent: packed on every core (a ViT-L/14 has 300 M weights).
        let panels = (outputs + 31) / 32
        let source = UncheckedSendable(stacked), target = UncheckedSendable(packed)
        let panelValues = self.panelValues
        CLIPParallel.forEachChunk(panels, minimumChunk: 8) { range in
            let first = range.lowerBound * 32, rows = min(outputs, range.upperBound * 32) - first
            let scratch = UnsafeMutablePointer<UInt16>.allocate(capacity: curator_bf16_pack_scratch_values(inputs))
            defer { scratch.deallocate() }
            curator_bf16_pack_weights(source.value + first * inputs, rows, inputs, inputs,
                                      target.value + range.lowerBound * panelValues, scratch)
        }
    }

    deinit { packed.deallocate() }

    /// The bytes the packed matrix holds.
    var bytes: Int { 2 * curator_bf16_packed_values(outputs, inputs) }

    /// The UInt16 values `roundedRows` must hold for `rows` rows of input.
    static func roundedRowValues(rows: Int, inputs: Int) -> Int { rows * curator_bf16_row_stride(inputs) }

    /// c[i·ldc + j] += Σₜ a[i·lda + t] · w[j][t] for `rows` rows of input,
    /// every j < `outputs`, with `a` rounded to bfloat16 into `roundedRows`
    /// (`roundedRowValues(rows:inputs:)` values) first. `workers` threads
    /// split the outputs (1 inside a tower that shares the cores with others).
    func multiplyAdd(rows: Int, a: UnsafePointer<Float>, lda: Int, roundedRows: UnsafeMutablePointer<UInt16>,
                     c: UnsafeMutablePointer<Float>, ldc: Int, workers: Int) {
        guard rows > 0 else { return }
        let inputs = self.inputs, outputs = self.outputs, panelValues = self.panelValues
        let depth = curator_bf16_row_stride(inputs)
        let input = UncheckedSendable(a), rounded = UncheckedSendable(roundedRows)
        let weights = UncheckedSendable(packed), output = UncheckedSendable(c)
        CLIPParallel.forEachChunk(rows, minimumChunk: 64, workers: workers) { range in
            curator_bf16_round_rows(input.value + range.lowerBound * lda, range.count, inputs, lda,
                                    rounded.value + range.lowerBound * depth)
        }
        // Each thread takes whole panels of 32 outputs and every row: the weights are read once.
        CLIPParallel.forEachChunk((outputs + 31) / 32, minimumChunk: 2, workers: workers) { range in
            let first = range.lowerBound * 32, columns = min(outputs, range.upperBound * 32) - first
            curator_bf16_gemm(rows, columns, inputs, rounded.value, weights.value + range.lowerBound * panelValues,
                              output.value + first, ldc)
        }
    }
}
