/// Which lists an inverted-file neighbour search compared with which: list
/// `a`'s rows were scored exactly against every row of the lists it
/// searched. Two rows whose lists searched each other were compared both
/// ways, so neither can be the other's missed neighbour: the descent that
/// refines the graph (`NeighborDescent.refine`) skips them, and spends its
/// distances only on pairs the search never saw.
struct SearchedListPairs: Sendable {
    /// Each row's list.
    let listOfRow: [Int32]
    /// UInt64 words per list's row of bits.
    private let words: Int
    /// Bit `b` of list `a`'s row: list `a` searched list `b`.
    private let bits: SharedBuffer<UInt64>

    /// No list searched yet, for `listCount` lists.
    init(listOfRow: [Int32], listCount: Int) {
        self.listOfRow = listOfRow
        words = (listCount + 63) / 64
        bits = SharedBuffer(repeating: 0, count: max(1, words * listCount))
    }

    /// Notes that list `a` searched `lists`. Each list's bits are whole
    /// words of their own, so threads noting different lists do not race.
    func note(_ a: Int, searched lists: [Int]) {
        for b in lists { bits[a * words + b / 64] |= 1 << UInt64(b % 64) }
    }

    /// Whether list `a` searched list `b`.
    @inline(__always) func searched(_ a: Int, _ b: Int) -> Bool {
        bits[a * words + b / 64] & (1 << UInt64(b % 64)) != 0
    }

    /// Whether rows `p` and `q` were scored against each other both ways.
    @inline(__always) func compared(_ p: Int32, _ q: Int32) -> Bool {
        let a = Int(listOfRow[Int(p)]), b = Int(listOfRow[Int(q)])
        return searched(a, b) && searched(b, a)
    }
}
