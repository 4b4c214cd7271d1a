#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs `call`, a POSIX call that returns a negative number and sets `errno`
/// when it fails, again for as long as it fails with `EINTR`: a signal that
/// arrives mid-call (Ctrl-C's handler, a terminal resize) is not a failure of
/// the read or write. Returns the first other result; when it is negative,
/// `errno` still holds the failure's code. The one such loop the readers and
/// writers share.
@inline(__always)
func retryingInterrupted(_ call: () -> Int) -> Int {
    while true {
        let n = call()
        if n >= 0 || errno != EINTR { return n }
    }
}
