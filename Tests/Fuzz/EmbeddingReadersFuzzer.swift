// libFuzzer entry point for the readers of files other people make: `.npy`,
// `.npz` (zip), `.safetensors` and `.parquet`. Built by scripts/fuzz together with the
// reader sources of CuratorCore (not the package: only the files it lists),
// with -sanitize=fuzzer,address. $CURATOR_FUZZ_FORMAT picks the reader.
//
// Each input is written to a file (the readers read files, with positioned
// reads and mmap) and read the way curator reads it; every error a reader
// throws is an expected outcome, and anything else (a crash, a sanitizer
// report, a timeout, an allocation above libFuzzer's limit) is a finding.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

private let format = ProcessInfo.processInfo.environment["CURATOR_FUZZ_FORMAT"] ?? "npz"
private let scratch: URL = {
    let dir = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("curator-fuzz-\(getpid())")
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir.appendingPathComponent("input.\(format)")
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let fd = open(scratch.path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    guard fd >= 0 else { fatalError("cannot write \(scratch.path)") }
    var done = 0
    while done < size {
        let n = write(fd, data + done, size - done)
        guard n > 0 else { fatalError("cannot write \(scratch.path)") }
        done += n
    }
    close(fd)
    switch format {
    case "npy": readNpy()
    case "safetensors": readSafeTensors()
    case "parquet": readParquet()
    default: readNpz()
    }
    return 0
}

private func readNpy() {
    if let array = try? NumpyArray(contentsOf: scratch) {
        _ = try? array.floatMatrix()
        _ = try? array.doubles()
        _ = try? array.strings()
        _ = try? array.fileSystemPaths()
    }
    _ = try? NumpyArray.floatMatrix(contentsOf: scratch)
}

private func readNpz() {
    guard let archive = try? NumpyArchive(contentsOf: scratch) else { return }
    for key in archive.keys {
        _ = try? archive.header(key)
        if let array = try? archive.array(key) {
            _ = try? array.doubles()
            _ = try? array.fileSystemPaths()
            _ = try? array.scalarString()
        }
        _ = try? archive.floatMatrix(key)
    }
    if PhotoMapIndex.looksLikeIndex(archive) { _ = try? PhotoMapIndex.read(archive) }
    _ = try? EmbeddingImport.npz(scratch)
}

private func readSafeTensors() {
    guard let file = try? SafeTensorsFile(url: scratch) else { return }
    for name in file.tensorNames {
        if let tensor = try? file.floatTensor(name) {
            // Touch every value, as the encoder would.
            var sum: Float = 0
            for i in 0..<tensor.shape.reduce(1, *) { sum += tensor.pointer[i] }
            if sum.isNaN { _ = sum }
        }
    }
}

private func readParquet() {
    guard let file = try? ParquetFile(contentsOf: scratch) else { return }
    for column in file.columnNames {
        // At most a million rows: what a caller with a shard of that size accepts.
        if let values = try? file.strings(column, maximumRows: 1 << 20) {
            var bytes = 0
            for row in 0..<values.count { bytes += values[row]?.count ?? 0 }
            if bytes < 0 { print(bytes) }
        }
    }
}
