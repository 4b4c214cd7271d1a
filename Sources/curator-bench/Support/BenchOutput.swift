import Foundation

/// The one output format of every `curator-bench` subcommand: JSON lines.
/// Each result is one JSON object on one line of standard output, keys
/// sorted, so the scripts of `scripts/bench` read every subcommand the same
/// way (`scripts/bench/json_field KEY FILE`, or `json.loads` per line) and a
/// result can carry arrays (picks, labels) as well as figures. Progress and
/// errors go to standard error, never between the lines.
enum BenchOutput {
    /// Writes `fields` as one JSON line, each figure to 6 significant
    /// digits (more is noise on a shared machine, and less text to read).
    static func emit(_ fields: [String: Any]) {
        do {
            var line = try JSONSerialization.data(withJSONObject: rounded(fields), options: [.sortedKeys])
            line.append(UInt8(ascii: "\n"))
            FileHandle.standardOutput.write(line)
        } catch {
            // Only a non-JSON value (a bug in a subcommand) gets here.
            fail("cannot write \(fields) as JSON: \(error)")
        }
    }

    private static func rounded(_ value: Any) -> Any {
        switch value {
        case let x as Double: return x.isFinite ? Double(String(format: "%.6g", x))! : x
        case let x as Float: return rounded(Double(x))
        case let d as [String: Any]: return d.mapValues(rounded)
        case let a as [Any]: return a.map(rounded)
        default: return value
        }
    }

    /// Writes `message` to standard error and exits with status 2.
    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("curator-bench: \(message)\n".utf8))
        exit(2)
    }
}

/// A failure the benchmark reports as `curator-bench: …` (bad input, mostly).
struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// This process's resource usage so far (all threads).
private func resourceUsage() -> rusage {
    var usage = rusage()
    #if canImport(Darwin)
    getrusage(RUSAGE_SELF, &usage)
    #else
    getrusage(RUSAGE_SELF.rawValue, &usage)
    #endif
    return usage
}

/// Peak resident memory of this process so far, in bytes.
func peakResidentBytes() -> Int {
    #if canImport(Darwin)
    return Int(resourceUsage().ru_maxrss)   // bytes on Darwin
    #else
    return Int(resourceUsage().ru_maxrss) * 1024   // KiB on Linux
    #endif
}

/// Minor page faults of this process so far (first touches of fresh pages).
func minorFaults() -> Int { Int(resourceUsage().ru_minflt) }

/// User + system CPU time of this process (all threads) so far, in seconds.
func cpuSeconds() -> Double {
    let usage = resourceUsage()
    func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

extension Duration {
    /// This duration in seconds, as the JSON lines report every time.
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}
