import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A `.safetensors` file, memory-mapped: an 8-byte little-endian header
/// length, a JSON header naming each tensor's dtype, shape and byte range,
/// then the tensors' bytes. The header is validated whole when the file is
/// opened (every range inside the file, no two overlapping, each the size its
/// shape and dtype say), so reading a tensor afterwards cannot go out of bounds.
///
/// Float32 tensors are used in place from the mapping when they are aligned;
/// Float16 and BFloat16 tensors are converted to Float32 once, when read.
/// `@unchecked Sendable`: the mapping is read-only and unmapped once, when the
/// last reference (the file or a tensor taken from it) goes away.
public final class SafeTensorsFile: @unchecked Sendable {
    /// The element types the format names. Only the floating-point ones can be
    /// read as Float32; the others are still bounds-checked.
    public enum DType: String, Sendable, CaseIterable {
        case f64 = "F64", f32 = "F32", f16 = "F16", bf16 = "BF16"
        case i64 = "I64", i32 = "I32", i16 = "I16", i8 = "I8"
        case u64 = "U64", u32 = "U32", u16 = "U16", u8 = "U8", bool = "BOOL"
        case f8e4m3 = "F8_E4M3", f8e5m2 = "F8_E5M2"

        /// Bytes per element.
        public var size: Int {
            switch self {
            case .f64, .i64, .u64: return 8
            case .f32, .i32, .u32: return 4
            case .f16, .bf16, .i16, .u16: return 2
            case .i8, .u8, .bool, .f8e4m3, .f8e5m2: return 1
            }
        }
    }

    /// Where one tensor lives in the file.
    public struct TensorInfo: Sendable, Equatable {
        /// The tensor's name, e.g. `visual_projection.weight`.
        public let name: String
        /// Its element type.
        public let dtype: DType
        /// Its shape, outermost first (row-major).
        public let shape: [Int]
        /// The offset of its first byte from the start of the file.
        public let fileOffset: Int
        /// Its size in bytes.
        public let byteCount: Int
        /// The number of elements (the product of `shape`).
        public var elementCount: Int { shape.reduce(1, *) }
    }

    /// The path the file was opened with, for messages.
    public let path: String
    /// Every tensor in the file, by name.
    public let tensors: [String: TensorInfo]
    /// The free-form string map under `__metadata__` (empty when absent).
    public let metadata: [String: String]
    /// The size of the file in bytes.
    public let fileSize: Int

    private let mapping: UnsafeRawPointer

    /// The largest header accepted: real headers are tens of kilobytes, and a
    /// huge claimed length is a sign of a damaged file, not a reason to read it.
    static let maximumHeaderBytes = 100 << 20

    /// Opens and validates the file at `url`; errors name the file and, where
    /// one is to blame, the tensor.
    public init(url: URL) throws {
        path = url.path
        let fd: Int32, info: stat
        do throws(RegularFile.Failure) {
            (fd, info) = try RegularFile.open(path)
        } catch {
            let kind: CLIPError.Kind = error.isMissing ? .modelMissing : .unreadable
            throw CLIPError(kind, path, error.code == 0 ? "\(error.reason) (a .safetensors file is expected)" : "cannot open: \(error.reason)")
        }
        defer { close(fd) }
        let size = Int(info.st_size)
        fileSize = size
        guard size >= 8 else {
            throw CLIPError(.corrupt, path, "truncated: \(size) bytes, shorter than the 8-byte header length")
        }
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0),
              base != UnsafeMutableRawPointer(bitPattern: -1) else {
            throw CLIPError(.unreadable, path, "cannot map into memory: \(String(cString: strerror(errno)))")
        }
        let mapped = UnsafeRawPointer(base)
        do {
            let parsed = try Self.parseHeader(mapped, size: size, path: path)
            tensors = parsed.tensors
            metadata = parsed.metadata
        } catch {
            munmap(base, size)
            throw error
        }
        mapping = mapped
    }

    deinit { munmap(UnsafeMutableRawPointer(mutating: mapping), fileSize) }

    /// The names of every tensor, sorted.
    public var tensorNames: [String] { tensors.keys.sorted() }

    /// The raw bytes of tensor `info` inside the mapping.
    func bytes(of info: TensorInfo) -> UnsafeRawPointer { mapping + info.fileOffset }

    /// Reads tensor `name` as Float32: in place when it is aligned Float32,
    /// otherwise converted (Float16, BFloat16, Float64) into memory it owns.
    public func floatTensor(_ name: String) throws -> FloatTensor {
        guard let info = tensors[name] else {
            throw CLIPError(.missingTensor, path, "tensor '\(name)' is missing")
        }
        let source = bytes(of: info)
        let count = info.elementCount
        switch info.dtype {
        case .f32:
            if Int(bitPattern: source) % MemoryLayout<Float>.alignment == 0 {
                return FloatTensor(name: name, shape: info.shape,
                                   pointer: source.assumingMemoryBound(to: Float.self), owner: self)
            }
            let out = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
            UnsafeMutableRawPointer(out).copyMemory(from: source, byteCount: count * 4)
            return FloatTensor(name: name, shape: info.shape, owning: out)
        case .f16:
            let out = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
            for i in 0..<count {
                out[i] = Self.halfToFloat(source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self).littleEndian)
            }
            return FloatTensor(name: name, shape: info.shape, owning: out)
        case .bf16:
            let out = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
            for i in 0..<count {
                let bits = source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self).littleEndian
                out[i] = Float(bitPattern: UInt32(bits) << 16)
            }
            return FloatTensor(name: name, shape: info.shape, owning: out)
        case .f64:
            let out = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
            for i in 0..<count {
                let bits = source.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self).littleEndian
                out[i] = Float(Double(bitPattern: bits))
            }
            return FloatTensor(name: name, shape: info.shape, owning: out)
        default:
            throw CLIPError(.wrongShape, path, "tensor '\(name)' has dtype \(info.dtype.rawValue); a floating-point dtype (F32, F16, BF16) is needed")
        }
    }

    /// Reads tensor `name` as Float32 after checking it has `shape` and
    /// only finite values; the errors name the tensor, the shape found and
    /// the shape expected.
    public func floatTensor(_ name: String, shape: [Int]) throws -> FloatTensor {
        guard let info = tensors[name] else { throw CLIPError(.missingTensor, path, "tensor '\(name)' is missing") }
        guard info.shape == shape else {
            throw CLIPError(.wrongShape, path, "tensor '\(name)' has shape \(info.shape), expected \(shape)")
        }
        return try finite(floatTensor(name))
    }

    /// `tensor`, unless it holds a NaN or infinity: one such weight makes
    /// every vector NaN, which would be stored and poison every selection.
    func finite(_ tensor: FloatTensor) throws -> FloatTensor {
        let values = UnsafeBufferPointer(start: tensor.pointer, count: tensor.shape.reduce(1, *))
        // NaN and ±inf survive multiplication by 0; finite values give 0.
        var acc: Float = 0
        for v in values { acc += v * 0 }
        guard !acc.isFinite, let k = values.firstIndex(where: { !$0.isFinite }) else { return tensor }
        throw CLIPError(.corrupt, path, "tensor '\(tensor.name)' holds \(values[k].isNaN ? "NaN" : "infinite") values (the first at index \(k)); the weights are damaged, download the model again")
    }

    /// IEEE 754 half-precision bits to Float (exact: every half is a float).
    static func halfToFloat(_ h: UInt16) -> Float {
        let sign = UInt32(h & 0x8000) << 16
        let exponent = Int(h >> 10) & 0x1F
        let mantissa = UInt32(h & 0x03FF)
        if exponent == 0x1F {  // infinity or NaN
            return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
        }
        if exponent == 0 {
            // Zero or subnormal: mantissa × 2⁻²⁴, exact in Float.
            let magnitude = Float(mantissa) * Float(sign: .plus, exponent: -24, significand: 1)
            return sign != 0 ? -magnitude : magnitude
        }
        return Float(bitPattern: sign | UInt32(exponent - 15 + 127) << 23 | (mantissa << 13))
    }

    // MARK: - Header

    private static func parseHeader(_ base: UnsafeRawPointer, size: Int, path: String) throws
        -> (tensors: [String: TensorInfo], metadata: [String: String])
    {
        let declared = base.loadUnaligned(as: UInt64.self).littleEndian
        guard declared <= UInt64(size - 8) else {
            throw CLIPError(.corrupt, path, "truncated: the header claims \(declared) bytes but only \(size - 8) follow")
        }
        guard declared <= UInt64(maximumHeaderBytes) else {
            throw CLIPError(.corrupt, path, "header length \(declared) is implausibly large (limit \(maximumHeaderBytes) bytes)")
        }
        let headerLength = Int(declared)
        guard headerLength >= 2, base.load(fromByteOffset: 8, as: UInt8.self) == UInt8(ascii: "{") else {
            throw CLIPError(.corrupt, path, "not a .safetensors file: the header is not a JSON object")
        }
        let json = Data(bytes: base + 8, count: headerLength)
        let root: Any
        do {
            root = try JSONSerialization.jsonObject(with: json, options: [])
        } catch {
            throw CLIPError(.corrupt, path, "the JSON header cannot be parsed (\(error.localizedDescription))")
        }
        guard let entries = root as? [String: Any] else {
            throw CLIPError(.corrupt, path, "not a .safetensors file: the header is not a JSON object")
        }
        let dataStart = 8 + headerLength
        let dataSize = size - dataStart

        var tensors: [String: TensorInfo] = [:]
        var metadata: [String: String] = [:]
        var ranges: [(begin: Int, end: Int, name: String)] = []
        for (name, value) in entries {
            if name == "__metadata__" {
                if let map = value as? [String: Any] {
                    for (k, v) in map { if let s = v as? String { metadata[k] = s } }
                }
                continue
            }
            let location = "tensor '\(name)'"
            guard let entry = value as? [String: Any] else {
                throw CLIPError(.corrupt, path, "\(location): header entry is not an object")
            }
            guard let dtypeName = entry["dtype"] as? String else {
                throw CLIPError(.corrupt, path, "\(location): 'dtype' is missing")
            }
            guard let dtype = DType(rawValue: dtypeName) else {
                throw CLIPError(.unsupported, path, "\(location): unknown dtype '\(dtypeName)'")
            }
            guard let shapeValues = entry["shape"] as? [Any] else {
                throw CLIPError(.corrupt, path, "\(location): 'shape' is missing or not a list")
            }
            var shape: [Int] = []
            for v in shapeValues {
                guard let n = jsonInteger(v), n >= 0 else {
                    throw CLIPError(.corrupt, path, "\(location): shape \(shapeValues) has a value that is not a non-negative integer")
                }
                shape.append(n)
            }
            guard let offsets = entry["data_offsets"] as? [Any], offsets.count == 2,
                  let begin = jsonInteger(offsets[0]), let end = jsonInteger(offsets[1]) else {
                throw CLIPError(.corrupt, path, "\(location): 'data_offsets' must be a list of two integers")
            }
            guard begin >= 0, end >= begin else {
                throw CLIPError(.corrupt, path, "\(location): data_offsets [\(begin), \(end)] are not an increasing range")
            }
            guard end <= dataSize else {
                throw CLIPError(.corrupt, path, "\(location): data_offsets [\(begin), \(end)] run past the end of the file (\(dataSize) data bytes; truncated?)")
            }
            var elements = 1
            for n in shape {
                let (product, overflow) = elements.multipliedReportingOverflow(by: n)
                guard !overflow else { throw CLIPError(.corrupt, path, "\(location): shape \(shape) is too large") }
                elements = product
            }
            let (expected, overflow) = elements.multipliedReportingOverflow(by: dtype.size)
            guard !overflow, expected == end - begin else {
                throw CLIPError(.corrupt, path, "\(location): \(end - begin) bytes for shape \(shape) of \(dtype.rawValue), which needs \(overflow ? "more" : String(expected))")
            }
            tensors[name] = TensorInfo(name: name, dtype: dtype, shape: shape,
                                       fileOffset: dataStart + begin, byteCount: end - begin)
            if end > begin { ranges.append((begin, end, name)) }
        }
        ranges.sort { $0.begin < $1.begin }
        for (a, b) in zip(ranges, ranges.dropFirst()) where b.begin < a.end {
            throw CLIPError(.corrupt, path, "tensors '\(a.name)' and '\(b.name)' overlap (bytes \(a.begin)..<\(a.end) and \(b.begin)..<\(b.end))")
        }
        return (tensors, metadata)
    }

    /// A JSON number that is an exact integer, as Int.
    private static func jsonInteger(_ value: Any) -> Int? {
        if JSONFields.isBoolean(value) { return nil }
        if let n = value as? Int { return n }
        if let d = value as? Double, d.rounded() == d, abs(d) < 9e15 { return Int(d) }
        return nil
    }
}

/// A Float32 tensor read from a `SafeTensorsFile`: either a view into the
/// file's mapping (kept alive by this value) or a converted copy it owns.
/// `@unchecked Sendable`: the values are never written after creation.
public final class FloatTensor: @unchecked Sendable {
    /// The tensor's name in its file.
    public let name: String
    /// Its shape, outermost first.
    public let shape: [Int]
    /// The first value; `count` values follow, row-major.
    public let pointer: UnsafePointer<Float>
    /// Whether the values are read in place from the mapped file (no copy).
    public let isMapped: Bool
    private let owner: AnyObject?
    private let owned: UnsafeMutablePointer<Float>?

    init(name: String, shape: [Int], pointer: UnsafePointer<Float>, owner: AnyObject) {
        self.name = name
        self.shape = shape
        self.pointer = pointer
        self.owner = owner
        owned = nil
        isMapped = true
    }

    init(name: String, shape: [Int], owning memory: UnsafeMutablePointer<Float>) {
        self.name = name
        self.shape = shape
        pointer = UnsafePointer(memory)
        owner = nil
        owned = memory
        isMapped = false
    }

    /// Creates a tensor owning a copy of `values` (used for tensors the
    /// encoder rearranges, and by tests).
    public convenience init(name: String, shape: [Int], values: [Float]) {
        let memory = UnsafeMutablePointer<Float>.allocate(capacity: max(values.count, 1))
        for (i, v) in values.enumerated() { memory[i] = v }
        self.init(name: name, shape: shape, owning: memory)
    }

    deinit { owned?.deallocate() }

    /// The number of values.
    public var count: Int { shape.reduce(1, *) }

    /// A copy of the values, for callers outside hot paths.
    public var values: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }

    /// Gives the memory of a mapped tensor's whole pages back to the system,
    /// for a caller that has made its own copy (the bfloat16 packing) and no
    /// longer reads these values: they stay readable, faulted in again from
    /// the file if anything does. The mapping is private and read-only, so
    /// nothing is lost. Owned copies are left alone.
    func releaseMappedPages() {
        guard isMapped else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = (Int(bitPattern: pointer) + page - 1) / page * page
        let end = (Int(bitPattern: pointer) + 4 * count) / page * page
        if end > start, let address = UnsafeMutableRawPointer(bitPattern: start) {
            madvise(address, end - start, Int32(MADV_DONTNEED))
        }
    }
}
