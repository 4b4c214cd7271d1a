// libFuzzer entry point for the readers of files other people make: `.npy`,
// `.npz` (zip), `.safetensors` and `.parquet`: the package's `curator-fuzz`
// target, which scripts/fuzz builds with -sanitize=fuzzer,address and
// FUZZING defined; `main` then hands over to libFuzzer's driver (SwiftPM
// names an executable's entry point itself, so libFuzzer's own `main` cannot
// be the one). Built without them it is a replayer: `curator-fuzz FORMAT
// FILE...` reads each file as one input. $CURATOR_FUZZ_FORMAT picks the
// reader under libFuzzer.
//
// Each input is written to a file (the readers read files, with positioned
// reads and mmap) and read the way curator reads it; every error a reader
// throws is an expected outcome, and anything else (a crash, a sanitizer
// report, a timeout, an allocation above libFuzzer's limit) is a finding.
import CuratorCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

nonisolated(unsafe) private var format = ProcessInfo.processInfo.environment["CURATOR_FUZZ_FORMAT"] ?? "npz"
/// The file each input is written to. Made once, on the first input (a
/// global is initialised on first use), so after the replayer has set `format`.
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

#if FUZZING
/// libFuzzer's driver (LLVM 12 and later), for a `main` of our own.
@_silgen_name("LLVMFuzzerRunDriver")
private func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// One input from libFuzzer's driver.
private func fuzzInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzz(data ?? emptyInput, size)
}
#endif

/// A valid pointer for an input of no bytes.
private var emptyInput: UnsafePointer<UInt8> { UnsafePointer(bitPattern: 1)! }

@main
enum FuzzerMain {
    static func main() {
        #if FUZZING
        // Heap cells, not inout locals: the driver may rewrite them, and
        // Swift 6.3's region analysis crashes on the inout form here.
        let argc = UnsafeMutablePointer<CInt>.allocate(capacity: 1)
        argc.pointee = CommandLine.argc
        let argv = UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>.allocate(capacity: 1)
        argv.pointee = CommandLine.unsafeArgv
        exit(runFuzzerDriver(argc, argv, fuzzInput))
        #else
        replay()
        #endif
    }

    /// The replayer: each file through the reader of FORMAT, as libFuzzer
    /// would pass it; a crash here is a finding too.
    private static func replay() {
        let arguments = CommandLine.arguments.dropFirst()
        guard let first = arguments.first, ["npy", "npz", "safetensors", "parquet"].contains(first) else {
            FileHandle.standardError.write(Data("usage: curator-fuzz npy|npz|safetensors|parquet FILE...\n".utf8))
            exit(2)
        }
        format = first
        for path in arguments.dropFirst() {
            guard let data = FileManager.default.contents(atPath: path) else {
                FileHandle.standardError.write(Data("curator-fuzz: cannot read \(path)\n".utf8))
                exit(1)
            }
            _ = data.withUnsafeBytes { fuzz($0.bindMemory(to: UInt8.self).baseAddress ?? emptyInput, data.count) }
        }
        print("\(arguments.count - 1) \(format) inputs read")
    }
}
