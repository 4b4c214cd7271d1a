import Foundation

/// A list of image paths, one per embedding row, read from a file: plain text
/// (one path per line), CSV (a column such as `image_path` or `path`) or JSON
/// (an array of paths, an array of objects with such a field, or an object
/// with a `paths`/`filenames`/`files` array). Paths are returned as written;
/// relative ones are resolved by the caller.
public enum PathList {
    /// Column or field names that hold paths, in order of preference (case-insensitive).
    public static let pathFields = ["image_path", "path", "filepath", "file_path", "filename", "file", "url"]

    /// The largest path list read (a million long paths fit many times over).
    static let maximumBytes = 4 << 30

    /// Reads the paths in `url`, choosing the format by its extension (`.csv`,
    /// `.json`, anything else is text), for display (invalid UTF-8 shows as U+FFFD).
    public static func read(_ url: URL) throws -> [String] {
        try readPaths(url).map(\.string)
    }

    /// Reads the paths in `url` as the file system spells them. A text list
    /// may hold names that are not UTF-8: each line's bytes are kept exactly.
    public static func readPaths(_ url: URL) throws -> [FileSystemPath] {
        let data: Data
        do throws(RegularFile.Failure) { data = Data(try RegularFile.read(url.path, limit: maximumBytes)) } catch {
            throw EmbeddingFileError(.unreadable, url.path, "cannot read the path list: it \(error.reason)")
        }
        let format = url.pathExtension.lowercased()
        if format != "csv" && format != "json" { return lines(data) }
        guard let text = String(data: data, encoding: .utf8) else {
            throw EmbeddingFileError(.corrupt, url.path, "the path list is not UTF-8 text")
        }
        let paths = format == "csv" ? try csvPaths(text, location: url.path) : try jsonPaths(data, location: url.path)
        return paths.map(FileSystemPath.init)
    }

    /// The non-empty lines, split at LF, CRLF or CR, each one path's bytes.
    static func lines(_ data: Data) -> [FileSystemPath] {
        data.split(whereSeparator: { $0 == 0x0A || $0 == 0x0D }).map { FileSystemPath(bytes: Array($0)) }
    }

    static func csvPaths(_ text: String, location: String) throws -> [String] {
        let rows = try csvRows(text, location: location).filter { !($0.count == 1 && $0[0].isEmpty) }
        guard let header = rows.first else { return [] }
        let lowered = header.map { $0.lowercased() }
        guard let column = pathFields.lazy.compactMap({ lowered.firstIndex(of: $0) }).first else {
            if header.count == 1 { return rows.map { $0[0] } }  // a one-column list without a header
            throw EmbeddingFileError(.missing, location, "no path column (looked for \(pathFields.joined(separator: ", ")); columns: \(header.joined(separator: ", ")))")
        }
        return try rows.dropFirst().enumerated().map { index, row in
            guard column < row.count else {
                throw EmbeddingFileError(.corrupt, location, "row \(index + 2) has \(row.count) fields, too few for the '\(header[column])' column")
            }
            return row[column]
        }
    }

    /// RFC 4180 records: commas, double-quoted fields with `""` escapes, CRLF or LF.
    static func csvRows(_ text: String, location: String) throws -> [[String]] {
        var rows: [[String]] = []
        var row: [String] = []
        var field = ""
        var quoted = false
        var iterator = text.unicodeScalars.makeIterator()
        var pending: Unicode.Scalar? = nil
        func next() -> Unicode.Scalar? {
            if let p = pending { pending = nil; return p }
            return iterator.next()
        }
        while let c = next() {
            if quoted {
                if c == "\"" {
                    if let after = next() {
                        if after == "\"" { field.unicodeScalars.append("\"") } else { quoted = false; pending = after }
                    } else { quoted = false }
                } else {
                    field.unicodeScalars.append(c)
                }
                continue
            }
            switch c {
            case "\"" where field.isEmpty: quoted = true
            case ",": row.append(field); field = ""
            case "\r": break
            case "\n": row.append(field); rows.append(row); row = []; field = ""
            default: field.unicodeScalars.append(c)
            }
        }
        if quoted { throw EmbeddingFileError(.corrupt, location, "a quoted CSV field is not closed") }
        if !field.isEmpty || !row.isEmpty { row.append(field); rows.append(row) }
        return rows
    }

    static func jsonPaths(_ data: Data, location: String) throws -> [String] {
        let value: Any
        do { value = try JSONSerialization.jsonObject(with: data) } catch {
            throw EmbeddingFileError(.corrupt, location, "the path list is not valid JSON")
        }
        let items: [Any]
        if let array = value as? [Any] {
            items = array
        } else if let object = value as? [String: Any],
                  let array = ["paths", "filenames", "files"].lazy.compactMap({ object[$0] as? [Any] }).first {
            items = array
        } else {
            throw EmbeddingFileError(.wrongType, location, "expected a JSON array of paths (or an object with a 'paths' array)")
        }
        return try items.enumerated().map { index, item in
            if let s = item as? String { return s }
            if let object = item as? [String: Any] {
                let byLowercase = Dictionary(object.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { a, _ in a })
                if let s = pathFields.lazy.compactMap({ byLowercase[$0] as? String }).first { return s }
            }
            throw EmbeddingFileError(.wrongType, location, "item \(index) is neither a path string nor an object with one of the fields \(pathFields.joined(separator: ", "))")
        }
    }
}
