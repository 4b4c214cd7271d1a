import Foundation

/// JSON text for the review page's replies, written by hand where they are
/// large (85,000 paths) and through `JSONSerialization` where they are small.
enum ReviewJSON {
    /// `value` (dictionaries, arrays, strings, numbers, booleans, `NSNull`) as JSON bytes.
    static func encode(_ value: Any) -> [UInt8] {
        guard JSONSerialization.isValidJSONObject(value),
              let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes])
        else { return Array("{\"error\":\"the reply could not be encoded\"}".utf8) }
        return [UInt8](data)
    }

    /// Appends `text` as a JSON string literal (quotes included).
    static func appendString(_ text: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out += [92, 34]
            case UInt8(ascii: "\\"): out += [92, 92]
            case 0x0A: out += [92, UInt8(ascii: "n")]
            case 0x0D: out += [92, UInt8(ascii: "r")]
            case 0x09: out += [92, UInt8(ascii: "t")]
            case 0..<0x20:
                out += Array(String(format: "\\u%04x", byte).utf8)
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// Appends `values` as a JSON array of integers.
    static func appendIntegers<S: Sequence>(_ values: S, to out: inout [UInt8]) where S.Element: BinaryInteger {
        out.append(UInt8(ascii: "["))
        var first = true
        for value in values {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            out += Array(String(value).utf8)
        }
        out.append(UInt8(ascii: "]"))
    }

    /// Reads a request body as a JSON object; nil when it is not one.
    static func object(_ bytes: [UInt8]) -> [String: Any]? {
        guard !bytes.isEmpty else { return [:] }
        return (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any]
    }

    /// The image ids of a JSON array (integers only; anything else is nil).
    static func ids(_ value: Any?) -> [Int64]? {
        guard let list = value as? [Any] else { return nil }
        var ids: [Int64] = []
        ids.reserveCapacity(list.count)
        for item in list {
            // Ids are far below 2^53: a double holds them exactly; 1.5 or "7" are refused.
            guard let number = item as? NSNumber, !(item is String), let id = Int64(exactly: number.doubleValue) else { return nil }
            ids.append(id)
        }
        return ids
    }
}
