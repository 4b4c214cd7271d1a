import CLuaShims
import CuratorCore
import Foundation

/// The host's `ProgressSink`: long operations (scan, embed, selection,
/// export) report through it.
///
/// - With a Lua `progress=function(done, total, label)` option, that function
///   is called (in protected mode; an error in it stops the operation and is
///   raised once the operation has unwound).
/// - Otherwise, when stderr is a terminal, a one-line bar is drawn there
///   (at most ~15 times a second) and erased when the step finishes.
/// - `isCancelled` is true once Ctrl-C was pressed (the host's interrupt
///   flag) or the callback failed.
///
/// Lua is only called on the thread that created the sink (the Lua
/// thread); updates from other threads only move the bar.
public final class LuaProgress: ProgressSink {
    private let lua: LuaStack
    private let callback: Int32?
    private let owner = pthread_self()
    /// The terminal's bar when there is no callback (`TerminalProgressBar`).
    private let bar: TerminalProgressBar?
    /// Shown on the bar instead of the step's label, e.g. `FPS  count 20 × 20 iterations`.
    public var title: String? {
        get { bar?.title }
        set { bar?.title = newValue }
    }
    /// Leave the finished bar on the terminal (with the elapsed time) instead of erasing it.
    public var keepsFinalLine: Bool {
        get { bar?.keepsFinalLine ?? false }
        set { bar?.keepsFinalLine = newValue }
    }
    /// The error the Lua callback raised, if it did.
    public private(set) var callbackError: LuaError?
    /// Drop updates (no callback call, no bar) while still answering
    /// `isCancelled`: for a phase whose progress another step already showed.
    public var isQuiet = false

    /// A sink for one binding call. `callback` is the stack index of a Lua
    /// function to call with (done, total, label), or nil.
    public init(lua: LuaStack, callback: Int32?, terminal: Bool = isatty(2) != 0) {
        self.lua = lua
        self.callback = callback.map { lua.absolute($0) }
        bar = callback == nil && terminal ? TerminalProgressBar(terminal: true) : nil
    }

    public var isCancelled: Bool { curator_interrupt_requested() != 0 || callbackError != nil }

    public func update(label: String, done: Int, total: Int) {
        if isQuiet { return }
        let onLuaThread = pthread_equal(pthread_self(), owner) != 0
        if let callback, onLuaThread, callbackError == nil {
            let top = lua.top
            defer { lua.top = top }
            guard lua.ensureSpace(5) else { return }
            lua.pushValue(at: callback)
            lua.push(done)
            lua.push(total)
            lua.push(label)
            do {
                try lua.call(arguments: 3, results: 0)
            } catch {
                callbackError = error
            }
            return
        }
        bar?.update(label: label, done: done, total: total)
    }

    public func finish(label: String) {
        if isQuiet { return }
        bar?.finish(label: label)
    }

    /// Throws the callback's error, if it raised one (call after the operation).
    public func rethrowCallbackError() throws {
        if let callbackError { throw callbackError }
    }
}

extension LuaProgress {
    /// Reads an optional `{progress=fn}` table at argument `n`, runs `body`
    /// with a sink, and leaves the stack as it found it.
    static func withSink<R>(_ call: LuaCall, options n: Int, allowed: [String] = ["progress"],
                            _ body: (LuaOptions, LuaProgress) throws -> R) throws -> R {
        try withSink(call, options: try call.options(n, allowed: allowed), body)
    }

    /// `withSink` for options the caller has already read.
    static func withSink<R>(_ call: LuaCall, options: LuaOptions,
                            _ body: (LuaOptions, LuaProgress) throws -> R) throws -> R {
        let top = call.lua.top
        defer { call.lua.top = top }
        let callback = try options.pushFunction("progress")
        let sink = LuaProgress(lua: call.lua, callback: callback)
        do {
            let result = try body(options, sink)
            try sink.rethrowCallbackError()
            return result
        } catch {
            try sink.rethrowCallbackError()
            throw error
        }
    }
}
