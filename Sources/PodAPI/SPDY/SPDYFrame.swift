import NIOCore

/// One SPDY/3.1 frame (draft-mbelshe-httpbis-spdy-00 with SPDY/3.1's flow control), as podd
/// reads and writes them for kubectl's port-forward, exec and attach. Header blocks are held
/// decoded (`SPDYHeaders`); the codec compresses them.
enum SPDYFrame: Sendable, Equatable {
    case synStream(streamID: UInt32, associatedTo: UInt32, priority: UInt8, flags: UInt8, headers: SPDYHeaders)
    case synReply(streamID: UInt32, flags: UInt8, headers: SPDYHeaders)
    case rstStream(streamID: UInt32, status: SPDYFrame.ResetStatus)
    case settings(flags: UInt8, [Setting])
    case ping(id: UInt32)
    case goAway(lastGoodStreamID: UInt32, status: UInt32)
    case headers(streamID: UInt32, flags: UInt8, headers: SPDYHeaders)
    case windowUpdate(streamID: UInt32, delta: UInt32)
    case data(streamID: UInt32, flags: UInt8, ByteBuffer)

    /// The protocol version every control frame carries.
    static let version: UInt16 = 3

    /// Control frame types.
    enum ControlType: UInt16 {
        case synStream = 1, synReply = 2, rstStream = 3, settings = 4, ping = 6, goAway = 7, headers = 8, windowUpdate = 9
    }

    /// FLAG_FIN (SYN_STREAM, SYN_REPLY, HEADERS, DATA): the sender's half of the stream ends.
    static let flagFin: UInt8 = 0x01
    /// FLAG_UNIDIRECTIONAL (SYN_STREAM): the receiver may not send on the stream.
    static let flagUnidirectional: UInt8 = 0x02

    /// RST_STREAM status codes.
    struct ResetStatus: RawRepresentable, Sendable, Equatable, CustomStringConvertible {
        var rawValue: UInt32
        static let protocolError = ResetStatus(rawValue: 1)
        static let invalidStream = ResetStatus(rawValue: 2)
        static let refusedStream = ResetStatus(rawValue: 3)
        static let unsupportedVersion = ResetStatus(rawValue: 4)
        static let cancel = ResetStatus(rawValue: 5)
        static let internalError = ResetStatus(rawValue: 6)
        static let flowControlError = ResetStatus(rawValue: 7)
        static let streamInUse = ResetStatus(rawValue: 8)
        static let streamAlreadyClosed = ResetStatus(rawValue: 9)
        static let frameTooLarge = ResetStatus(rawValue: 11)

        var description: String { "RST_STREAM status \(rawValue)" }
    }

    /// One SETTINGS entry: flags (8 bits), id (24 bits), value.
    struct Setting: Sendable, Equatable {
        var flags: UInt8
        var id: UInt32
        var value: UInt32

        /// SETTINGS_INITIAL_WINDOW_SIZE: the initial send window of every new stream.
        static let initialWindowSize: UInt32 = 7
    }

    /// GOAWAY status OK.
    static let goAwayOK: UInt32 = 0

    /// The stream a frame belongs to (0 for connection frames).
    var streamID: UInt32 {
        switch self {
        case let .synStream(id, _, _, _, _), let .synReply(id, _, _), let .rstStream(id, _), let .headers(id, _, _),
             let .windowUpdate(id, _), let .data(id, _, _):
            return id
        case .settings, .ping, .goAway:
            return 0
        }
    }
}

/// A header block: names in lower case (SPDY/3 requires it), in order; a name with several
/// values holds them joined by NUL, as on the wire.
struct SPDYHeaders: Sendable, Equatable, ExpressibleByDictionaryLiteral {
    var fields: [(name: String, value: String)]

    init(_ fields: [(name: String, value: String)] = []) {
        self.fields = fields.map { (Self.lowercased($0.name), $0.value) }
    }

    init(dictionaryLiteral elements: (String, String)...) {
        self.init(elements.map { (name: $0.0, value: $0.1) })
    }

    /// The first value of `name` (any case).
    subscript(name: String) -> String? {
        let wanted = Self.lowercased(name)
        guard let raw = fields.first(where: { $0.name == wanted })?.value else { return nil }
        return raw.split(separator: "\0", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init)
    }

    static func == (a: SPDYHeaders, b: SPDYHeaders) -> Bool {
        a.fields.count == b.fields.count && zip(a.fields, b.fields).allSatisfy { $0.name == $1.name && $0.value == $1.value }
    }

    /// ASCII lower case (header names are tokens).
    static func lowercased(_ s: String) -> String {
        String(decoding: s.utf8.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }, as: UTF8.self)
    }
}
