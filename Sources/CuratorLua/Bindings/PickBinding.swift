/// `curator.pick`: the entries of a numbered list an answer such as
/// `1,3-5` names, for the prompts of workflows (clean, dedup) and scripts
/// written like them, so each need not parse ranges of its own.
enum PickBinding {
    static func install(host: CuratorHost) {
        host.state.defineFunction(
            "curator.pick",
            signature: "curator.pick(list, answer) -> {entry, ...} | nil, message",
            summary: "The entries of list that answer names by number (\"2\", \"1,3-5\", \"4 6\"), in the list's order, each once; nil and a message naming the first part that is not a number or range from 1 to #list"
        ) { call in
            let table = try call.table(1)
            let answer = try call.string(2)
            let lua = call.lua
            let count = lua.rawLength(at: table)
            let numbers: [Int]
            switch chosen(answer, count: count) {
            case let .success(picked): numbers = picked
            case let .failure(bad):
                lua.pushNil()
                lua.push("'\(bad.part)' is not a number or range from 1 to \(count)")
                return 2
            }
            lua.newTable(array: numbers.count)
            for (k, n) in numbers.enumerated() {
                lua.rawGet(table, index: n)
                lua.rawSet(-2, index: k + 1)
            }
            return 1
        }
    }

    /// A part of an answer that is not a number or range within the list.
    struct BadPart: Error { let part: String }

    /// The numbers `answer` names, ascending and distinct; else the first
    /// part that is not a number or range within `1...count` (the whole
    /// answer when it has no part).
    static func chosen(_ answer: String, count: Int) -> Result<[Int], BadPart> {
        let parts = answer.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\t" })
        guard !parts.isEmpty else { return .failure(BadPart(part: answer)) }
        var picked = Set<Int>()
        for part in parts {
            guard let range = parse(String(part), count: count) else { return .failure(BadPart(part: String(part))) }
            picked.formUnion(range)
        }
        return .success(picked.sorted())
    }

    /// `n` or `from-to` within `1...count`.
    private static func parse(_ part: String, count: Int) -> ClosedRange<Int>? {
        let ends = part.split(separator: "-", omittingEmptySubsequences: false)
        guard ends.count <= 2, ends.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
              let from = Int(ends[0]), let to = Int(ends.last!), from >= 1, from <= to, to <= count else { return nil }
        return from...to
    }
}
