/// What the review server answers to one request, before HTTP: a status,
/// a content type and the body's bytes.
public struct ReviewReply: Sendable {
    /// The HTTP status code.
    public var status: Int
    /// The `Content-Type`.
    public var contentType: String
    /// The body.
    public var body: [UInt8]
    /// Extra headers (name, value).
    public var headers: [(String, String)] = []

    /// A reply with `body` of `contentType`.
    public init(status: Int = 200, contentType: String, body: [UInt8], headers: [(String, String)] = []) {
        self.status = status
        self.contentType = contentType
        self.body = body
        self.headers = headers
    }

    /// A JSON reply.
    static func json(_ value: Any, status: Int = 200) -> ReviewReply {
        ReviewReply(status: status, contentType: "application/json; charset=utf-8", body: ReviewJSON.encode(value))
    }

    /// JSON bytes written by hand.
    static func json(bytes: [UInt8], status: Int = 200) -> ReviewReply {
        ReviewReply(status: status, contentType: "application/json; charset=utf-8", body: bytes)
    }

    /// An error the page shows as it is: `{"error": message}`.
    static func error(_ status: Int, _ message: String) -> ReviewReply {
        json(["error": message], status: status)
    }
}
