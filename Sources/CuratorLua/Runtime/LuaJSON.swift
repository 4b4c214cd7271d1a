import CLuaShims

/// `curator.json.encode` and `curator.json.decode`: JSON for scripts that
/// emit results for other tools.
///
/// Mapping: tables whose keys are exactly 1…n become arrays (an empty table
/// is `[]`; `curator.json.object{}` marks one that must be `{}`), other tables
/// objects with keys sorted (integer keys written as strings); strings are
/// bytes and invalid UTF-8 is written as U+FFFD; integers stay integers;
/// NaN and infinities, functions, cycles and mixed key types are errors.
/// `curator.json.null` stands for JSON null both ways. Host objects encode
/// as their type's JSON form (an image as its path).
enum LuaJSON {
    /// The registry key of the metatable that marks tables to encode as objects.
    static let objectMarkKey = "curator.json.object"

    struct EncodeError: Error { let message: String }

    // MARK: Encoding

    struct Encoder {
        let lua: LuaStack
        let state: LuaState
        let indent: Int
        let nullPointer: UnsafeRawPointer?
        var out: [UInt8] = []
        var visiting: Set<UnsafeRawPointer> = []

        mutating func encode(at index: Int32, path: String, depth: Int) throws {
            let index = lua.absolute(index)
            guard depth < 200 else { throw EncodeError(message: "nesting deeper than 200 levels at \(path)") }
            switch lua.type(at: index) {
            case .nil, .none: out += Array("null".utf8)
            case .boolean: out += Array((lua.truthy(at: index) ? "true" : "false").utf8)
            case .number:
                if lua.isIntegerValue(at: index), let i = lua.integer(at: index) {
                    out += Array(String(i).utf8)
                } else {
                    let d = lua.number(at: index) ?? .nan
                    guard d.isFinite else { throw EncodeError(message: "cannot encode \(LuaStack.format(number: d)) at \(path)") }
                    out += Array("\(d)".utf8)
                }
            case .string:
                lua.withBytes(at: index) { writeString($0) }
            case .lightUserdata:
                guard lua_touserdata(lua.L, index).map(UnsafeRawPointer.init) == nullPointer else {
                    throw EncodeError(message: "cannot encode a userdata at \(path)")
                }
                out += Array("null".utf8)
            case .userdata:
                guard let type = state.hostType(at: index, in: lua) else {
                    throw EncodeError(message: "cannot encode a \(lua.typeName(at: index)) at \(path)")
                }
                guard lua.ensureSpace(4) else { throw EncodeError(message: "stack overflow at \(path)") }
                guard try type.pushJSONValue(at: index, in: lua) else {
                    throw EncodeError(message: "cannot encode a \(type.name) at \(path)")
                }
                defer { lua.pop() }
                try encode(at: -1, path: path, depth: depth + 1)
            case .table:
                try encodeTable(at: index, path: path, depth: depth)
            case .function, .thread:
                throw EncodeError(message: "cannot encode a \(lua.type(at: index).name) at \(path)")
            }
        }

        mutating func encodeTable(at index: Int32, path: String, depth: Int) throws {
            guard let pointer = lua_topointer(lua.L, index) else { return }
            guard !visiting.contains(pointer) else { throw EncodeError(message: "cycle at \(path)") }
            visiting.insert(pointer)
            defer { visiting.remove(pointer) }
            guard lua.ensureSpace(8) else { throw EncodeError(message: "stack overflow at \(path)") }

            var integerKeys = 0, stringKeys: [[UInt8]] = [], maxKey: Int64 = 0
            lua.pushNil()
            while lua.next(index) {
                lua.pop()
                switch lua.type(at: -1) {
                case .string:
                    stringKeys.append(lua.bytes(at: -1) ?? [])
                case .number:
                    guard let i = lua.integer(at: -1) else {
                        let shown = lua.describe(at: -1)
                        lua.pop()
                        throw EncodeError(message: "cannot encode the non-integer key \(shown) at \(path)")
                    }
                    integerKeys += 1
                    maxKey = max(maxKey, i)
                    if i < 1 { stringKeys.append(Array(String(i).utf8)) ; integerKeys -= 1 }
                default:
                    let name = lua.typeName(at: -1)
                    lua.pop()
                    throw EncodeError(message: "cannot encode a \(name) key at \(path)")
                }
            }
            let markedObject = isMarkedObject(index)
            let isArray = !markedObject && stringKeys.isEmpty && Int64(integerKeys) == maxKey
            let pad = indent > 0 ? [UInt8(ascii: "\n")] + [UInt8](repeating: 32, count: indent * (depth + 1)) : []
            let closePad = indent > 0 ? [UInt8(ascii: "\n")] + [UInt8](repeating: 32, count: indent * depth) : []
            if isArray {
                out.append(UInt8(ascii: "["))
                for i in stride(from: 1, through: Int(maxKey), by: 1) {
                    if i > 1 { out.append(UInt8(ascii: ",")) }
                    out += pad
                    lua.rawGet(index, index: i)
                    defer { lua.pop() }
                    try encode(at: -1, path: "\(path)[\(i)]", depth: depth + 1)
                }
                if maxKey > 0 { out += closePad }
                out.append(UInt8(ascii: "]"))
                return
            }
            if integerKeys > 0 {
                // Positive integer keys of a non-sequence become strings too.
                lua.pushNil()
                while lua.next(index) {
                    lua.pop()
                    if lua.type(at: -1) == .number, let i = lua.integer(at: -1), i >= 1 {
                        stringKeys.append(Array(String(i).utf8))
                    }
                }
            }
            stringKeys.sort { $0.lexicographicallyPrecedes($1) }
            out.append(UInt8(ascii: "{"))
            for (n, key) in stringKeys.enumerated() {
                if n > 0 { out.append(UInt8(ascii: ",")) }
                out += pad
                key.withUnsafeBufferPointer { writeString($0) }
                out.append(UInt8(ascii: ":"))
                if indent > 0 { out.append(32) }
                // The key may have come from an integer: look both up.
                lua.push(bytes: key)
                var type = lua_rawget(lua.L, index)
                if type == LUA_TNIL, let s = String(validating: key, as: UTF8.self), let i = Int(s) {
                    lua.pop()
                    type = lua_rawgeti(lua.L, index, lua_Integer(i))
                }
                defer { lua.pop() }
                try encode(at: -1, path: "\(path).\(String(decoding: key, as: UTF8.self))", depth: depth + 1)
            }
            if !stringKeys.isEmpty { out += closePad }
            out.append(UInt8(ascii: "}"))
        }

        func isMarkedObject(_ index: Int32) -> Bool {
            guard lua.pushMetatable(of: index) else { return false }
            defer { lua.pop(2) }
            lua_getfield(lua.L, curator_registryindex(), LuaJSON.objectMarkKey)
            return lua.rawEqual(-1, -2)
        }

        mutating func writeString(_ bytes: UnsafeBufferPointer<UInt8>) {
            out.append(UInt8(ascii: "\""))
            let hex = Array("0123456789abcdef".utf8)
            for scalar in String(decoding: bytes, as: UTF8.self).unicodeScalars {
                switch scalar {
                case "\"": out += [92, 34]
                case "\\": out += [92, 92]
                case "\n": out += [92, UInt8(ascii: "n")]
                case "\r": out += [92, UInt8(ascii: "r")]
                case "\t": out += [92, UInt8(ascii: "t")]
                case _ where scalar.value < 0x20 || scalar.value == 0x7f:
                    let v = Int(scalar.value)
                    out += Array("\\u00".utf8) + [hex[v >> 4], hex[v & 15]]
                default:
                    out += Array(String(scalar).utf8)
                }
            }
            out.append(UInt8(ascii: "\""))
        }
    }

    // MARK: Decoding

    struct DecodeError: Error { let message: String }

    struct Decoder {
        let lua: LuaStack
        let bytes: UnsafeBufferPointer<UInt8>
        let pushNull: () -> Void
        let pushObjectMark: () -> Void
        var position = 0

        func error(_ what: String) -> DecodeError {
            var line = 1, column = 1
            for i in 0..<min(position, bytes.count) {
                if bytes[i] == UInt8(ascii: "\n") { line += 1; column = 1 } else { column += 1 }
            }
            return DecodeError(message: "\(what) at line \(line), column \(column)")
        }

        func unexpected() -> DecodeError {
            guard position < bytes.count else { return error("unexpected end of input") }
            let b = bytes[position]
            let hex = Array("0123456789abcdef")
            let shown = b >= 0x20 && b < 0x7f ? "'\(Character(Unicode.Scalar(b)))'" : "byte 0x\(hex[Int(b >> 4)])\(hex[Int(b & 15)])"
            return error("unexpected \(shown)")
        }

        mutating func skipSpace() {
            while position < bytes.count, [9, 10, 13, 32].contains(bytes[position]) { position += 1 }
        }

        mutating func literal(_ word: String) throws {
            for b in word.utf8 {
                guard position < bytes.count, bytes[position] == b else { throw unexpected() }
                position += 1
            }
        }

        /// Parses one value and pushes it.
        mutating func value(depth: Int) throws {
            guard depth < 500 else { throw error("nesting deeper than 500 levels") }
            guard lua.ensureSpace(4) else { throw error("stack overflow") }
            skipSpace()
            guard position < bytes.count else { throw error("unexpected end of input") }
            switch bytes[position] {
            case UInt8(ascii: "{"): try object(depth: depth)
            case UInt8(ascii: "["): try array(depth: depth)
            case UInt8(ascii: "\""):
                let s = try string()
                lua.push(bytes: s)
            case UInt8(ascii: "t"): try literal("true"); lua.push(true)
            case UInt8(ascii: "f"): try literal("false"); lua.push(false)
            case UInt8(ascii: "n"): try literal("null"); pushNull()
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try number()
            default: throw unexpected()
            }
        }

        mutating func number() throws {
            let start = position
            var isInteger = true
            func digits() -> Int {
                let s = position
                while position < bytes.count, bytes[position] >= 48, bytes[position] <= 57 { position += 1 }
                return position - s
            }
            if bytes[position] == UInt8(ascii: "-") { position += 1 }
            guard position < bytes.count else { throw error("unexpected end of input") }
            if bytes[position] == UInt8(ascii: "0") { position += 1 }
            else if digits() == 0 { throw unexpected() }
            if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
                isInteger = false
                position += 1
                if digits() == 0 { throw unexpected() }
            }
            if position < bytes.count, bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E") {
                isInteger = false
                position += 1
                if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") { position += 1 }
                if digits() == 0 { throw unexpected() }
            }
            let text = String(decoding: bytes[start..<position], as: UTF8.self)
            if isInteger, let i = Int64(text) { lua.push(i); return }
            guard let d = Double(text) else { throw error("bad number '\(text)'") }
            lua.push(d)
        }

        mutating func hex4() throws -> UInt32 {
            guard position + 4 <= bytes.count else { throw error("unexpected end of input") }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let b = bytes[position]
                let d: UInt32
                switch b {
                case 48...57: d = UInt32(b - 48)
                case 65...70: d = UInt32(b - 55)
                case 97...102: d = UInt32(b - 87)
                default: throw error("bad \\u escape")
                }
                v = v * 16 + d
                position += 1
            }
            return v
        }

        mutating func string() throws -> [UInt8] {
            position += 1 // opening quote
            var out: [UInt8] = []
            while true {
                guard position < bytes.count else { throw error("unterminated string") }
                let b = bytes[position]
                switch b {
                case UInt8(ascii: "\""):
                    position += 1
                    return out
                case UInt8(ascii: "\\"):
                    position += 1
                    guard position < bytes.count else { throw error("unterminated string") }
                    let e = bytes[position]
                    position += 1
                    switch e {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                    case UInt8(ascii: "b"): out.append(8)
                    case UInt8(ascii: "f"): out.append(12)
                    case UInt8(ascii: "n"): out.append(10)
                    case UInt8(ascii: "r"): out.append(13)
                    case UInt8(ascii: "t"): out.append(9)
                    case UInt8(ascii: "u"):
                        var code = try hex4()
                        if (0xD800..<0xDC00).contains(code), position + 6 <= bytes.count,
                           bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u") {
                            let save = position
                            position += 2
                            let low = try hex4()
                            if (0xDC00..<0xE000).contains(low) {
                                code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                            } else {
                                position = save
                            }
                        }
                        let scalar = Unicode.Scalar(code) ?? "\u{FFFD}"
                        out += Array(String(scalar).utf8)
                    default:
                        position -= 1
                        throw error("bad escape")
                    }
                case 0..<0x20:
                    throw error("control character in string")
                default:
                    out.append(b)
                    position += 1
                }
            }
        }

        mutating func array(depth: Int) throws {
            position += 1
            lua.newTable()
            skipSpace()
            if position < bytes.count, bytes[position] == UInt8(ascii: "]") { position += 1; return }
            var n = 0
            while true {
                try value(depth: depth + 1)
                n += 1
                lua.rawSet(-2, index: n)
                skipSpace()
                guard position < bytes.count else { throw error("unexpected end of input") }
                if bytes[position] == UInt8(ascii: ",") { position += 1; continue }
                if bytes[position] == UInt8(ascii: "]") { position += 1; return }
                throw unexpected()
            }
        }

        mutating func object(depth: Int) throws {
            position += 1
            lua.newTable()
            skipSpace()
            if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
                position += 1
                pushObjectMark()
                lua_setmetatable(lua.L, -2)
                return
            }
            while true {
                skipSpace()
                guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { throw unexpected() }
                let key = try string()
                skipSpace()
                guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else { throw unexpected() }
                position += 1
                lua.push(bytes: key)
                try value(depth: depth + 1)
                lua_rawset(lua.L, -3)
                skipSpace()
                guard position < bytes.count else { throw error("unexpected end of input") }
                if bytes[position] == UInt8(ascii: ",") { position += 1; continue }
                if bytes[position] == UInt8(ascii: "}") { position += 1; return }
                throw unexpected()
            }
        }
    }

    // MARK: Installing

    /// Defines `curator.json.encode/decode/null/object` in `state`.
    static func install(in state: LuaState) {
        let lua = state.stack
        // The object mark: a metatable shared by tables to encode as `{}`.
        lua.newTable()
        lua.push("object"); lua.rawSet(-2, "__jsontype")
        lua_setfield(lua.L, curator_registryindex(), objectMarkKey)

        // `null` is a light userdata sentinel with a stable address.
        let nullPointer = UnsafeRawPointer(bitPattern: 0x6e756c6c)! // "null"
        let top = lua.top
        lua.pushGlobals()
        lua.rawGet(-1, "curator")
        if lua.type(at: -1) != .table {
            lua.pop(); lua.newTable(); lua.pushValue(at: -1); lua.rawSet(-3, "curator")
        }
        if lua.rawGet(-1, "json") != .table {
            lua.pop(); lua.newTable(); lua.pushValue(at: -1); lua.rawSet(-3, "json")
        }
        lua_pushlightuserdata(lua.L, UnsafeMutableRawPointer(mutating: nullPointer))
        lua.rawSet(-2, "null")
        lua.top = top

        state.defineFunction(
            "curator.json.encode", signature: "curator.json.encode(value [, {indent=0}]) -> string",
            summary: "Encodes a Lua value as JSON (sorted keys; tables 1..n become arrays)"
        ) { call in
            guard call.count >= 1 else { throw call.typeError(1, expected: "value") }
            let options = try call.options(2, allowed: ["indent"])
            let indent = try options.integer("indent") ?? 0
            guard (0...16).contains(indent) else { throw call.failure("indent must be an integer from 0 to 16 (got \(indent))") }
            var encoder = Encoder(lua: call.lua, state: state, indent: indent, nullPointer: nullPointer)
            do {
                try encoder.encode(at: call.index(1), path: "$", depth: 0)
            } catch let error as EncodeError {
                throw call.failure(error.message)
            }
            call.lua.push(bytes: encoder.out)
            return 1
        }

        state.defineFunction(
            "curator.json.decode", signature: "curator.json.decode(text) -> value | nil, message",
            summary: "Decodes JSON text (null becomes curator.json.null); bad JSON returns nil and a message"
        ) { call in
            _ = try call.bytes(1)
            let lua = call.lua
            let top = lua.top
            let result: Result<Void, DecodeError> = lua.withBytes(at: call.index(1)) { buffer in
                var decoder = Decoder(
                    lua: lua, bytes: buffer,
                    pushNull: { lua_pushlightuserdata(lua.L, UnsafeMutableRawPointer(mutating: nullPointer)) },
                    pushObjectMark: { lua_getfield(lua.L, curator_registryindex(), objectMarkKey) })
                do {
                    try decoder.value(depth: 0)
                    decoder.skipSpace()
                    if decoder.position < buffer.count { throw decoder.error("unexpected data after the JSON value") }
                    return .success(())
                } catch let error as DecodeError {
                    return .failure(error)
                } catch {
                    return .failure(DecodeError(message: "\(error)"))
                }
            } ?? .failure(DecodeError(message: "not a string"))
            switch result {
            case .success:
                return 1
            case .failure(let error):
                lua.top = top
                lua.pushNil()
                lua.push("invalid JSON: \(error.message)")
                return 2
            }
        }

        state.defineFunction(
            "curator.json.object", signature: "curator.json.object([t]) -> t",
            summary: "Marks a table to encode as a JSON object even when empty"
        ) { call in
            if call.isNil(1) { call.lua.newTable() } else { call.lua.pushValue(at: try call.table(1)) }
            lua_getfield(call.lua.L, curator_registryindex(), objectMarkKey)
            lua_setmetatable(call.lua.L, -2)
            return 1
        }
    }
}
