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

/// read(2) and write(2) under names that types with their own `read` and
/// `write` methods (`POSIXFileSystem`, `RegularFile`) do not shadow.
#if canImport(Glibc)
func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int { Glibc.read(fd, buffer, count) }
func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int { Glibc.write(fd, buffer, count) }
#else
func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int { Darwin.read(fd, buffer, count) }
func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int { Darwin.write(fd, buffer, count) }
#endif
