import CuratorCore
import Dispatch
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// Why a review server could not start.
public enum ReviewServerError: Error, CustomStringConvertible, LocalizedError {
    /// The port that was asked for is taken.
    case portInUse(host: String, port: Int)
    /// No port in curator's range nor any other could be bound.
    case noFreePort(host: String)
    /// Binding or starting failed otherwise.
    case cannotStart(host: String, port: Int, reason: String)

    public var description: String {
        switch self {
        case let .portInUse(host, port):
            return "port \(port) on \(host) is in use (another review or program); give another with port=N (--port N), or none to take a free one"
        case let .noFreePort(host): return "no free port on \(host)"
        case let .cannotStart(host, port, reason): return "cannot serve on \(host):\(port): \(reason)"
        }
    }

    public var errorDescription: String? { description }
}

/// The review page's HTTP server (SPEC §9): a Hummingbird application on
/// its own threads (SwiftNIO's), so the REPL stays usable while the page is
/// open. It never touches the Lua state: every request goes to a
/// `ReviewSession`, which works on its own connection to the index.
///
/// Nothing of SwiftNIO starts before `start`: curator's start-up does not pay for it.
/// `@unchecked Sendable`: its properties are set in `start` and never changed, except `closed`, read and written under `lock`; the session locks itself.
public final class ReviewServer: @unchecked Sendable {
    /// How to serve.
    public struct Options: Sendable {
        /// The address to bind: loopback unless the user asks otherwise.
        public var host = "127.0.0.1"
        /// The port; nil takes the first free one from 8765 on.
        public var port: Int?
        /// The run the page opens on (nil: the newest run, or the album without runs).
        public var run: Int64?

        /// Loopback, a free port, the newest run.
        public init(host: String = "127.0.0.1", port: Int? = nil, run: Int64? = nil) {
            self.host = host
            self.port = port
            self.run = run
        }
    }

    /// The first port tried when none is given; the next ones follow when it is taken.
    public static let firstPort = 8765
    /// How many ports from `firstPort` on are tried before any free one is taken.
    static let portsTried = 20

    /// What the page reads and changes.
    public let session: ReviewSession
    /// The bound address.
    public let host: String
    /// The bound port.
    public let port: Int
    /// The page's address, token included.
    public let url: String
    /// The token every request carries.
    public var token: String { access.token }
    /// Whether it binds to something other than loopback (anyone who can reach it and has the URL can act).
    public var isExposed: Bool { !["127.0.0.1", "localhost", "::1"].contains(host) }

    private let access: ReviewAccess
    private let services: ServiceGroup
    private let task: Task<Void, Never>
    private let lock = NSLock()
    private var closed = false

    private init(session: ReviewSession, host: String, port: Int, access: ReviewAccess, services: ServiceGroup,
                 task: Task<Void, Never>) {
        self.session = session
        self.host = host
        self.port = port
        self.access = access
        self.services = services
        self.task = task
        let shown = host.contains(":") ? "[\(host)]" : host
        url = "http://\(shown):\(port)/?token=\(access.token)"
    }

    /// Starts serving `album` (through a connection of its own) and returns
    /// once the port is bound.
    ///
    /// - Throws: `ReviewServerError` (the port asked for is in use, or
    ///   nothing could be bound); the index's errors.
    public static func start(album: Album, options: Options = Options()) throws -> ReviewServer {
        let session = try ReviewSession(album: album, run: options.run)
        var served = false
        // Without a server the session's map and scores have no one to serve: end them now.
        defer { if !served { session.stop() } }
        let ports: [Int] = options.port.map { [$0] } ?? Array(firstPort..<(firstPort + portsTried)) + [0]
        var lastError: Error?
        for port in ports {
            do {
                let server = try bind(session: session, host: options.host, port: port)
                served = true
                return server
            } catch let error as IOError where error.errnoCode == EADDRINUSE {
                if options.port != nil { throw ReviewServerError.portInUse(host: options.host, port: port) }
                lastError = error
            } catch let error as ReviewServerError {
                throw error
            } catch {
                throw ReviewServerError.cannotStart(host: options.host, port: port, reason: "\(error)")
            }
        }
        throw lastError.map { ReviewServerError.cannotStart(host: options.host, port: 0, reason: "\($0)") }
            ?? ReviewServerError.noFreePort(host: options.host)
    }

    /// Binds one port; throws the bind error as it is.
    private static func bind(session: ReviewSession, host: String, port: Int) throws -> ReviewServer {
        // The token is made before the router; the port only when bound (0 asks the system for one).
        let token = ReviewAccess.randomToken()
        let bound = Rendezvous()
        let router = Router()
        let access = Box<ReviewAccess>()
        router.middlewares.add(DeferredGuard(access: access))
        ReviewRoutes.add(to: router, session: session, access: access)
        var logger = Logger(label: "curator.review")
        logger.logLevel = .critical
        let app = Application(router: router,
                              configuration: .init(address: .hostname(host, port: port), serverName: nil, reuseAddress: true),
                              onServerRunning: { channel in
                                  let actual = channel.localAddress?.port ?? port
                                  access.value = ReviewAccess(token: token, host: host, port: actual)
                                  bound.succeed(actual)
                              },
                              logger: logger)
        // Stopped by a graceful shutdown, never by cancelling the task: cancelling
        // drops the connections the server accepted but has not started on, and
        // SwiftNIO traps on those ("Deinited NIOAsyncWriter without calling finish()").
        let services = ServiceGroup(configuration: .init(services: [app], logger: logger))
        let task = Task {
            do {
                try await services.run()
            } catch {
                bound.fail(error)
            }
            bound.fail(CancellationError())
        }
        let actual: Int
        do {
            actual = try bound.wait()
        } catch {
            Task { await services.triggerGracefulShutdown() }
            throw error
        }
        return ReviewServer(session: session, host: host, port: actual, access: access.value!, services: services, task: task)
    }

    /// Whether `close` ran.
    public var isClosed: Bool {
        lock.lock(); defer { lock.unlock() }
        return closed
    }

    /// Stops serving (the page then says the review ended) and waits until the port is free.
    public func close() {
        lock.lock()
        let already = closed
        closed = true
        lock.unlock()
        guard !already else { return }
        session.stop()
        // The server stops listening, closes idle connections and finishes the requests under way.
        let finished = DispatchSemaphore(value: 0)
        Task { [services, task] in
            await services.triggerGracefulShutdown()
            await task.value
            finished.signal()
        }
        _ = finished.wait(timeout: .now() + 10)
    }

    deinit { close() }

    /// The HTTP form of a reply.
    static func response(_ reply: ReviewReply) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = reply.contentType
        headers[.cacheControl] = "no-store"
        for (name, value) in reply.headers {
            if let field = HTTPField.Name(name) { headers[field] = value }
        }
        return Response(status: HTTPResponse.Status(code: reply.status), headers: headers,
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: reply.body)))
    }
}

/// A value set once by another thread before it is read (the bound port's access rules).
/// `@unchecked Sendable`: the value is read and written only under `lock`.
final class Box<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value?
    var value: Value? {
        get { lock.lock(); defer { lock.unlock() }; return stored }
        set { lock.lock(); stored = newValue; lock.unlock() }
    }
}

/// The guard, once the port is known (requests cannot arrive before it is).
struct DeferredGuard<Context: RequestContext>: RouterMiddleware {
    let access: Box<ReviewAccess>
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let access = access.value else { return ReviewServer.response(.error(503, "starting")) }
        return try await ReviewGuard(access: access).handle(request, context: context, next: next)
    }
}

/// Hands the bound port (or the error) from the server's task to the thread that started it.
/// `@unchecked Sendable`: the result is set and read under `lock`, and the semaphore orders the hand-over.
private final class Rendezvous: @unchecked Sendable {
    private let semaphore = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var result: Result<Int, Error>?

    func succeed(_ port: Int) { settle(.success(port)) }
    func fail(_ error: Error) { settle(.failure(error)) }

    private func settle(_ value: Result<Int, Error>) {
        lock.lock()
        let first = result == nil
        if first { result = value }
        lock.unlock()
        if first { semaphore.signal() }
    }

    func wait() throws -> Int {
        guard semaphore.wait(timeout: .now() + 30) == .success else {
            throw ReviewServerError.cannotStart(host: "", port: 0, reason: "the server did not start within 30 s")
        }
        lock.lock(); defer { lock.unlock() }
        return try result!.get()
    }
}
