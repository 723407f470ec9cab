import NIOHTTP1
import PodRuntime

/// A request as the routes see it: method, path split into segments, query, headers, body.
public struct APIRequest: Sendable {
    public var method: HTTPMethod
    public var path: String
    public var segments: [String]
    public var query: [String: [String]]
    public var headers: HTTPHeaders
    public var body: RequestBody
    /// The caller, from SO_PEERCRED.
    public var peer: PeerCredentials

    public func queryValue(_ name: String) -> String? { query[name]?.last }

    public func queryBool(_ name: String) -> Bool {
        guard let v = queryValue(name) else { return false }
        return v == "true" || v == "1" || v == ""
    }
}

public enum RequestBody: Sendable {
    case bytes([UInt8])
    /// A large upload (an image) spooled to a file (`UploadSpool`) the route takes over.
    case file(path: String, size: Int)

    public var bytes: [UInt8] {
        if case let .bytes(b) = self { return b }
        return []
    }
}

/// What a route answers: a whole body, or a body the server pulls a chunk at a time (watch,
/// logs) and writes with chunked transfer encoding, pulling the next chunk only once the
/// previous one is on its way to the client: a slow client slows its producer down instead
/// of making podd buffer for it.
public enum APIResponse: Sendable {
    case full(status: HTTPResponseStatus, contentType: String, body: [UInt8], headers: [(String, String)] = [])
    case stream(status: HTTPResponseStatus, contentType: String, body: ResponseChunks)

    /// The HTTP status code.
    public var code: Int {
        switch self {
        case let .full(status, _, _, _), let .stream(status, _, _): return Int(status.code)
        }
    }
}

/// The body of a streamed answer: `next` gives the next chunk, or nil at its end. `cancel`
/// is called when the client has gone before the end.
public struct ResponseChunks: Sendable {
    public let next: @Sendable () async -> [UInt8]?
    public let cancel: @Sendable () -> Void

    public init(next: @escaping @Sendable () async -> [UInt8]?, cancel: @escaping @Sendable () -> Void = {}) {
        self.next = next
        self.cancel = cancel
    }

    /// The elements of `stream`, each made into a chunk by `render` (nil: skipped). The
    /// stream's own buffer bounds what waits for a slow client.
    public static func from<Element: Sendable>(_ stream: AsyncStream<Element>, render: @escaping @Sendable (Element) -> [UInt8]?) -> ResponseChunks {
        let iterator = SharedIterator(stream.makeAsyncIterator())
        return ResponseChunks(next: {
            while let element = await iterator.next() {
                if let chunk = render(element) { return chunk }
            }
            return nil
        })
    }
}

/// An async iterator pulled by one consumer at a time (the connection writing a response),
/// shared as a reference so that a Sendable closure can advance it.
private final class SharedIterator<Element: Sendable>: @unchecked Sendable {
    private var iterator: AsyncStream<Element>.Iterator

    init(_ iterator: AsyncStream<Element>.Iterator) { self.iterator = iterator }

    func next() async -> Element? { await iterator.next() }
}

/// Splits a path into percent-decoded segments; nil when a segment decodes to something
/// that must never reach a file path ("..", ".", or containing "/" or NUL).
func pathSegments(_ path: String) -> [String]? {
    var out: [String] = []
    for raw in path.split(separator: "/", omittingEmptySubsequences: true) {
        guard let seg = percentDecode(String(raw)), seg != "..", seg != ".", !seg.contains("\0"), !seg.contains("/") else {
            return nil
        }
        out.append(seg)
    }
    return out
}

func percentDecode(_ s: String, plusIsSpace: Bool = false) -> String? {
    var bytes: [UInt8] = []
    var it = Array(s.utf8)[...]
    while let c = it.popFirst() {
        if c == UInt8(ascii: "%") {
            guard it.count >= 2, let h = hexValue(it[it.startIndex]), let l = hexValue(it[it.startIndex + 1]) else { return nil }
            bytes.append(h << 4 | l)
            it = it.dropFirst(2)
        } else if plusIsSpace && c == UInt8(ascii: "+") {
            bytes.append(UInt8(ascii: " "))
        } else {
            bytes.append(c)
        }
    }
    return String(validating: bytes, as: UTF8.self)
}

private func hexValue(_ c: UInt8) -> UInt8? {
    switch c {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
    default: return nil
    }
}

func parseQuery(_ q: Substring) -> [String: [String]] {
    var out: [String: [String]] = [:]
    for pair in q.split(separator: "&", omittingEmptySubsequences: true) {
        let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        guard let key = percentDecode(String(parts[0]), plusIsSpace: true) else { continue }
        let value = parts.count > 1 ? (percentDecode(String(parts[1]), plusIsSpace: true) ?? "") : ""
        out[key, default: []].append(value)
    }
    return out
}
