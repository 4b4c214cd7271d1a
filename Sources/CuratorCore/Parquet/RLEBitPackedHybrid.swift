/// Parquet's RLE/bit-packed hybrid encoding, used for definition levels and
/// dictionary indices: runs, each introduced by a varint header whose low bit
/// says whether `header >> 1` copies of one value follow (RLE) or
/// `header >> 1` groups of eight values packed `bitWidth` bits each, least
/// significant bit first (bit-packed).
enum RLEBitPackedHybrid {
    /// Why the runs cannot be decoded, in words.
    struct Malformed: Error {
        let problem: String
    }

    /// Decodes exactly `count` values of `bitWidth` bits (0...32) from `bytes`
    /// into `out` (appended). The last bit-packed run may be padded past
    /// `count`, or cut short by a writer when the bytes end: only values that
    /// are wholly present are taken, and too few of them is an error.
    static func decode(_ bytes: UnsafeRawBufferPointer, bitWidth: Int, count: Int, into out: inout [UInt32]) throws(Malformed) {
        guard (0...32).contains(bitWidth) else { throw Malformed(problem: "a bit width of \(bitWidth) (at most 32 is possible)") }
        let valueBytes = (bitWidth + 7) / 8
        let mask: UInt64 = bitWidth == 32 ? 0xFFFF_FFFF : (1 << UInt64(bitWidth)) - 1
        var position = 0
        var left = count
        out.reserveCapacity(out.count + count)
        while left > 0 {
            // The run's header, a varint.
            var header: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                guard position < bytes.count else { throw Malformed(problem: "the runs end after \(count - left) of \(count) values") }
                let b = bytes[position]
                position += 1
                header |= UInt64(b & 0x7F) << shift
                if b & 0x80 == 0 { break }
                shift += 7
                guard shift < 64 else { throw Malformed(problem: "a run header is longer than ten bytes") }
            }
            if header & 1 == 0 {
                let run = header >> 1
                guard position + valueBytes <= bytes.count else { throw Malformed(problem: "a run's value is cut off") }
                var value: UInt32 = 0
                for i in 0..<valueBytes { value |= UInt32(bytes[position + i]) << UInt32(8 * i) }
                position += valueBytes
                guard UInt64(value) <= mask else { throw Malformed(problem: "a run's value \(value) does not fit \(bitWidth) bits") }
                let take = Int(min(run, UInt64(left)))
                out.append(contentsOf: repeatElement(value, count: take))
                left -= take
            } else {
                let groups = header >> 1
                // Bytes the run claims, limited to those present.
                let claimed = groups.multipliedReportingOverflow(by: UInt64(bitWidth))
                let available = bytes.count - position
                let runBytes = claimed.overflow ? available : Int(min(claimed.partialValue, UInt64(available)))
                let claimedValues = groups.multipliedReportingOverflow(by: 8)
                let present = bitWidth == 0 ? Int.max : runBytes * 8 / bitWidth
                let take = min(left, present, claimedValues.overflow ? Int.max : Int(min(claimedValues.partialValue, UInt64(Int.max))))
                guard take > 0 || groups == 0 else { throw Malformed(problem: "a bit-packed run is cut off") }
                if bitWidth == 0 {
                    out.append(contentsOf: repeatElement(0, count: take))
                } else {
                    let base = bytes.baseAddress! + position
                    for i in 0..<take {
                        let bit = i * bitWidth
                        let first = bit >> 3
                        // Up to five bytes hold a value of at most 32 bits.
                        var word: UInt64 = 0
                        let last = min(runBytes, first + 5)
                        for j in first..<last { word |= UInt64(base.load(fromByteOffset: j, as: UInt8.self)) << UInt64(8 * (j - first)) }
                        out.append(UInt32((word >> UInt64(bit & 7)) & mask))
                    }
                }
                left -= take
                position += runBytes
            }
        }
    }
}
