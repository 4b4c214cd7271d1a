/// float32 → bfloat16 → float32, nearest with ties to even, written without
/// the C kernels' help: the reference the bfloat16 product tests round by.
func bfloat16Reference(_ x: Float) -> Float {
    let bits = x.bitPattern
    let upper = bits >> 16, rest = bits & 0xffff
    let up = rest > 0x8000 || (rest == 0x8000 && upper & 1 == 1)
    return Float(bitPattern: (upper + (up ? 1 : 0)) << 16)
}
