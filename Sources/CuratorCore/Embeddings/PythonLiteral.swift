/// A value of the small Python literal language numpy writes as the header of
/// an `.npy` file: `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }`.
/// Parsing it properly (instead of pattern-matching the text) keeps odd but
/// valid headers readable: double quotes, Python 2 `3L` integers, `u'…'`
/// strings, structured dtypes given as lists, any spacing and trailing commas.
enum PythonLiteral: Equatable, Sendable {
    case string(String)
    case int(Int)
    case bool(Bool)
    case none
    case tuple([PythonLiteral])
    case list([PythonLiteral])
    case dict([String: PythonLiteral])

    /// A problem in the literal text, with the character offset it was found at.
    struct SyntaxError: Error, Equatable {
        let message: String
        let offset: Int
    }

    /// Parses `text`, which must hold exactly one literal (whitespace around it allowed).
    static func parse(_ text: String) throws -> PythonLiteral {
        var parser = Parser(scalars: Array(text.unicodeScalars))
        let value = try parser.value()
        parser.skipSpace()
        guard parser.atEnd else { throw parser.error("unexpected text after the value") }
        return value
    }

    /// How the value reads in Python, for messages.
    var pythonText: String {
        switch self {
        case .string(let s): return "'\(s)'"
        case .int(let i): return String(i)
        case .bool(let b): return b ? "True" : "False"
        case .none: return "None"
        case .tuple(let items): return items.count == 1 ? "(\(items[0].pythonText),)" : "(" + items.map(\.pythonText).joined(separator: ", ") + ")"
        case .list(let items): return "[" + items.map(\.pythonText).joined(separator: ", ") + "]"
        case .dict(let d): return "{" + d.keys.sorted().map { "'\($0)': \(d[$0]!.pythonText)" }.joined(separator: ", ") + "}"
        }
    }

    private struct Parser {
        let scalars: [Unicode.Scalar]
        var i = 0
        /// How many containers enclose the current position. Real headers
        /// nest two deep; a file of a million '[' must not exhaust the stack.
        var depth = 0
        static let maximumDepth = 32

        var atEnd: Bool { i >= scalars.count }

        func error(_ message: String) -> SyntaxError { SyntaxError(message: message, offset: i) }

        mutating func enter() throws {
            guard depth < Self.maximumDepth else { throw error("nested more than \(Self.maximumDepth) deep") }
            depth += 1
        }

        mutating func skipSpace() {
            while i < scalars.count, scalars[i].properties.isWhitespace { i += 1 }
        }

        mutating func value() throws -> PythonLiteral {
            skipSpace()
            guard i < scalars.count else { throw error("the text ends where a value should be") }
            let c = scalars[i]
            switch c {
            case "{": return try dict()
            case "(": return .tuple(try sequence(close: ")"))
            case "[": return .list(try sequence(close: "]"))
            case "'", "\"": return .string(try string())
            case "-", "+", "0"..."9": return .int(try integer())
            default:
                if c.properties.isAlphabetic || c == "_" {
                    let word = identifier()
                    switch word {
                    case "True": return .bool(true)
                    case "False": return .bool(false)
                    case "None": return .none
                    case "u", "U", "b", "B", "r", "R":
                        // String prefixes (u'…' from Python 2 headers).
                        guard i < scalars.count, scalars[i] == "'" || scalars[i] == "\"" else { break }
                        return .string(try string())
                    default: break
                    }
                    throw SyntaxError(message: "unexpected name '\(word)'", offset: i - word.unicodeScalars.count)
                }
                throw error("unexpected character '\(c)'")
            }
        }

        mutating func identifier() -> String {
            var s = String.UnicodeScalarView()
            while i < scalars.count, scalars[i].properties.isAlphabetic || scalars[i] == "_" || ("0"..."9").contains(scalars[i]) {
                s.append(scalars[i]); i += 1
            }
            return String(s)
        }

        mutating func integer() throws -> Int {
            var negative = false
            if scalars[i] == "-" || scalars[i] == "+" { negative = scalars[i] == "-"; i += 1 }
            let start = i
            var value = 0
            while i < scalars.count, scalars[i].isASCII, ("0"..."9").contains(scalars[i]) {
                let d = Int(scalars[i].value - 48)
                let (m, o1) = value.multipliedReportingOverflow(by: 10)
                let (a, o2) = m.addingReportingOverflow(d)
                guard !o1, !o2 else { throw SyntaxError(message: "integer too large", offset: start) }
                value = a
                i += 1
            }
            guard i > start else { throw error("expected digits") }
            if i < scalars.count, scalars[i] == "L" || scalars[i] == "l" { i += 1 }  // Python 2 long
            if i < scalars.count, scalars[i] == "." || scalars[i] == "e" || scalars[i] == "E" {
                throw error("floating-point numbers do not occur in .npy headers")
            }
            return negative ? -value : value
        }

        mutating func string() throws -> String {
            let quote = scalars[i]
            i += 1
            var out = String.UnicodeScalarView()
            while true {
                guard i < scalars.count else { throw error("unterminated string") }
                let c = scalars[i]
                i += 1
                if c == quote { return String(out) }
                guard c == "\\" else { out.append(c); continue }
                guard i < scalars.count else { throw error("unterminated string") }
                let e = scalars[i]
                i += 1
                switch e {
                case "n": out.append("\n")
                case "t": out.append("\t")
                case "r": out.append("\r")
                case "0": out.append("\0")
                case "x": out.append(try hexScalar(digits: 2))
                case "u": out.append(try hexScalar(digits: 4))
                case "U": out.append(try hexScalar(digits: 8))
                default: out.append(e)  // \\, \', \" and anything else stand for themselves
                }
            }
        }

        mutating func hexScalar(digits: Int) throws -> Unicode.Scalar {
            guard i + digits <= scalars.count,
                  let code = UInt32(String(String.UnicodeScalarView(scalars[i..<i + digits])), radix: 16),
                  let scalar = Unicode.Scalar(code) else { throw error("bad escape in string") }
            i += digits
            return scalar
        }

        /// Items up to `close`, for tuples and lists; trailing commas allowed.
        mutating func sequence(close: Unicode.Scalar) throws -> [PythonLiteral] {
            try enter()
            defer { depth -= 1 }
            i += 1
            var items: [PythonLiteral] = []
            while true {
                skipSpace()
                guard i < scalars.count else { throw error("missing '\(close)'") }
                if scalars[i] == close { i += 1; return items }
                items.append(try value())
                skipSpace()
                guard i < scalars.count else { throw error("missing '\(close)'") }
                if scalars[i] == "," { i += 1 } else if scalars[i] != close { throw error("expected ',' or '\(close)'") }
            }
        }

        mutating func dict() throws -> PythonLiteral {
            try enter()
            defer { depth -= 1 }
            i += 1
            var result: [String: PythonLiteral] = [:]
            while true {
                skipSpace()
                guard i < scalars.count else { throw error("missing '}'") }
                if scalars[i] == "}" { i += 1; return .dict(result) }
                guard case .string(let key) = try value() else { throw error("dictionary keys must be strings") }
                skipSpace()
                guard i < scalars.count, scalars[i] == ":" else { throw error("expected ':' after key '\(key)'") }
                i += 1
                result[key] = try value()
                skipSpace()
                guard i < scalars.count else { throw error("missing '}'") }
                if scalars[i] == "," { i += 1 } else if scalars[i] != "}" { throw error("expected ',' or '}'") }
            }
        }
    }
}
