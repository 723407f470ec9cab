import NIOCore

/// Why a connection's bytes are not SPDY/3.1 podd can read: the connection ends (GOAWAY with
/// PROTOCOL_ERROR where possible).
struct SPDYProtocolError: Error, Sendable, CustomStringConvertible {
    var reason: String
    var description: String { "SPDY protocol error: \(reason)" }
}

/// Reads frames from a connection's bytes as they arrive, whatever the pieces (TCP segments,
/// or the binary messages of a WebSocket tunnel). Header blocks are decompressed in the order
/// they came, with the connection's one zlib stream.
final class SPDYFrameParser {
    private var buffer = ByteBuffer()
    private let inflater: SPDYHeaderInflater
    /// The largest frames accepted (a frame is held whole before it is handled): control
    /// frames are small, and kubectl's DATA frames at most 32 KiB.
    static let maxControlLength = 1 << 20
    static let maxDataLength = 1 << 20

    init() throws(SPDYCompressionError) {
        inflater = try SPDYHeaderInflater()
    }

    /// Bytes read from the connection.
    func append(_ bytes: ByteBuffer) {
        if buffer.readableBytes == 0 { buffer = bytes } else { var b = bytes; buffer.writeBuffer(&b) }
    }

    /// The next whole frame, or nil until more bytes come. Unknown control frames (types a
    /// newer peer may send) are skipped, as the protocol asks.
    func next() throws(SPDYProtocolError) -> SPDYFrame? {
        while true {
            guard buffer.readableBytes >= 8,
                  let first = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self),
                  let second = buffer.getInteger(at: buffer.readerIndex + 4, as: UInt32.self) else { return nil }
            let length = Int(second & 0x00ff_ffff)
            let flags = UInt8(second >> 24)
            let control = first & 0x8000_0000 != 0
            if length > (control ? Self.maxControlLength : Self.maxDataLength) {
                throw SPDYProtocolError(reason: "a \(control ? "control" : "DATA") frame of \(length) bytes (at most \(control ? Self.maxControlLength : Self.maxDataLength))")
            }
            guard buffer.readableBytes >= 8 + length else { return nil }
            buffer.moveReaderIndex(forwardBy: 8)
            guard var payload = buffer.readSlice(length: length) else { return nil }
            if buffer.readableBytes == 0 { buffer.clear() }
            if !control {
                return .data(streamID: first & 0x7fff_ffff, flags: flags, payload)
            }
            let version = UInt16(first >> 16 & 0x7fff)
            guard version == SPDYFrame.version else {
                throw SPDYProtocolError(reason: "version \(version) (podd speaks SPDY/3.1)")
            }
            guard let type = SPDYFrame.ControlType(rawValue: UInt16(first & 0xffff)) else { continue }
            return try decode(type, flags: flags, &payload)
        }
    }

    private func decode(_ type: SPDYFrame.ControlType, flags: UInt8, _ p: inout ByteBuffer) throws(SPDYProtocolError) -> SPDYFrame {
        func word() throws(SPDYProtocolError) -> UInt32 {
            guard let v = p.readInteger(as: UInt32.self) else { throw SPDYProtocolError(reason: "a \(type) frame cut short") }
            return v
        }
        switch type {
        case .synStream:
            let stream = try word() & 0x7fff_ffff
            let associated = try word() & 0x7fff_ffff
            guard let priority = p.readInteger(as: UInt8.self), p.readInteger(as: UInt8.self) != nil else {
                throw SPDYProtocolError(reason: "a SYN_STREAM frame cut short")
            }
            return .synStream(streamID: stream, associatedTo: associated, priority: priority >> 5, flags: flags,
                              headers: try headerBlock(&p, stream: stream))
        case .synReply:
            let stream = try word() & 0x7fff_ffff
            return .synReply(streamID: stream, flags: flags, headers: try headerBlock(&p, stream: stream))
        case .headers:
            let stream = try word() & 0x7fff_ffff
            return .headers(streamID: stream, flags: flags, headers: try headerBlock(&p, stream: stream))
        case .rstStream:
            let stream = try word() & 0x7fff_ffff
            return .rstStream(streamID: stream, status: .init(rawValue: try word()))
        case .settings:
            let count = try word()
            guard Int(count) <= p.readableBytes / 8 else { throw SPDYProtocolError(reason: "a SETTINGS frame with \(count) entries cut short") }
            var settings: [SPDYFrame.Setting] = []
            for _ in 0..<count {
                let flagID = try word()
                settings.append(.init(flags: UInt8(flagID >> 24), id: flagID & 0x00ff_ffff, value: try word()))
            }
            return .settings(flags: flags, settings)
        case .ping:
            return .ping(id: try word())
        case .goAway:
            let last = try word() & 0x7fff_ffff
            // SPDY/3 added the status; accept a frame without it.
            return .goAway(lastGoodStreamID: last, status: p.readInteger(as: UInt32.self) ?? SPDYFrame.goAwayOK)
        case .windowUpdate:
            let stream = try word() & 0x7fff_ffff
            return .windowUpdate(streamID: stream, delta: try word() & 0x7fff_ffff)
        }
    }

    private func headerBlock(_ p: inout ByteBuffer, stream: UInt32) throws(SPDYProtocolError) -> SPDYHeaders {
        let compressed = p.readBytes(length: p.readableBytes) ?? []
        do {
            return try SPDYHeaderBlock.decode(try inflater.decompress(compressed))
        } catch let error as SPDYCompressionError {
            throw SPDYProtocolError(reason: "stream \(stream): \(error)")
        } catch {
            throw SPDYProtocolError(reason: "stream \(stream): \(error)")
        }
    }
}

/// Writes frames, compressing header blocks with the connection's one zlib stream: frames
/// must go out in the order they are encoded (SPDYConnection's writer keeps that order).
final class SPDYFrameEncoder {
    private let deflater: SPDYHeaderDeflater

    init() throws(SPDYCompressionError) {
        deflater = try SPDYHeaderDeflater()
    }

    func encode(_ frame: SPDYFrame) throws(SPDYCompressionError) -> ByteBuffer {
        var out = ByteBuffer()
        switch frame {
        case let .data(stream, flags, payload):
            out.reserveCapacity(8 + payload.readableBytes)
            out.writeInteger(stream & 0x7fff_ffff)
            out.writeInteger(UInt32(flags) << 24 | UInt32(payload.readableBytes))
            out.writeImmutableBuffer(payload)
        case let .synStream(stream, associated, priority, flags, headers):
            let block = try deflater.compress(SPDYHeaderBlock.encode(headers))
            Self.control(.synStream, flags: flags, length: 10 + block.count, &out)
            out.writeInteger(stream & 0x7fff_ffff)
            out.writeInteger(associated & 0x7fff_ffff)
            out.writeInteger(UInt8((priority & 0x7) << 5))
            out.writeInteger(UInt8(0))
            out.writeBytes(block)
        case let .synReply(stream, flags, headers):
            let block = try deflater.compress(SPDYHeaderBlock.encode(headers))
            Self.control(.synReply, flags: flags, length: 4 + block.count, &out)
            out.writeInteger(stream & 0x7fff_ffff)
            out.writeBytes(block)
        case let .headers(stream, flags, headers):
            let block = try deflater.compress(SPDYHeaderBlock.encode(headers))
            Self.control(.headers, flags: flags, length: 4 + block.count, &out)
            out.writeInteger(stream & 0x7fff_ffff)
            out.writeBytes(block)
        case let .rstStream(stream, status):
            Self.control(.rstStream, flags: 0, length: 8, &out)
            out.writeInteger(stream & 0x7fff_ffff)
            out.writeInteger(status.rawValue)
        case let .settings(flags, settings):
            Self.control(.settings, flags: flags, length: 4 + 8 * settings.count, &out)
            out.writeInteger(UInt32(settings.count))
            for s in settings {
                out.writeInteger(UInt32(s.flags) << 24 | (s.id & 0x00ff_ffff))
                out.writeInteger(s.value)
            }
        case let .ping(id):
            Self.control(.ping, flags: 0, length: 4, &out)
            out.writeInteger(id)
        case let .goAway(last, status):
            Self.control(.goAway, flags: 0, length: 8, &out)
            out.writeInteger(last & 0x7fff_ffff)
            out.writeInteger(status)
        case let .windowUpdate(stream, delta):
            Self.control(.windowUpdate, flags: 0, length: 8, &out)
            out.writeInteger(stream & 0x7fff_ffff)
            out.writeInteger(delta & 0x7fff_ffff)
        }
        return out
    }

    /// A DATA frame's 8 bytes of header (stream, flags, length), for a payload written after it.
    static func dataHeader(streamID: UInt32, flags: UInt8, length: Int) -> ByteBuffer {
        var out = ByteBuffer()
        out.reserveCapacity(8)
        out.writeInteger(streamID & 0x7fff_ffff)
        out.writeInteger(UInt32(flags) << 24 | UInt32(length & 0x00ff_ffff))
        return out
    }

    private static func control(_ type: SPDYFrame.ControlType, flags: UInt8, length: Int, _ out: inout ByteBuffer) {
        out.writeInteger(0x8000_0000 | UInt32(SPDYFrame.version) << 16 | UInt32(type.rawValue))
        out.writeInteger(UInt32(flags) << 24 | UInt32(length & 0x00ff_ffff))
    }
}
