import NIOCore
import Testing

@testable import PodAPI

/// SPDY/3.1 as kubectl's spdystream writes it: the dictionary, compressed header blocks
/// against bytes made by zlib itself (Python's zlib, level 9 with the SPDY/3 dictionary), and
/// every frame type through the encoder and back through the parser, whole and byte by byte.
@Suite struct SPDYFramingTests {
    /// `streamtype: error, port: 80, requestid: 0`, then the same with `data`, compressed one
    /// after the other on one zlib stream, each ended by a sync flush.
    static let errorBlock: [UInt8] = [
        0x78, 0xf9, 0xe3, 0xc6, 0xa7, 0xc2, 0x02, 0x25, 0x3a, 0x70, 0x3a, 0x2b, 0x29, 0x4a, 0x4d, 0xcc, 0x85, 0x16,
        0x25, 0xac, 0xa9, 0xa0, 0x80, 0x86, 0x14, 0xcb, 0x45, 0xa0, 0x24, 0xcc, 0x64, 0x61, 0x00, 0x24, 0x39, 0x8b,
        0x20, 0x91, 0x98, 0x09, 0x4a, 0xdc, 0x8c, 0x06, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff,
    ]
    static let dataBlock: [UInt8] = [0xc2, 0xaa, 0x15, 0x54, 0x0a, 0x25, 0x12, 0xd2, 0x09, 0x00, 0x00, 0x00, 0xff, 0xff]
    static let errorHeaders: SPDYHeaders = ["streamtype": "error", "port": "80", "requestid": "0"]
    static let dataHeaders: SPDYHeaders = ["streamtype": "data", "port": "80", "requestid": "0"]

    @Test func dictionaryIsSPDY3s() {
        let bytes = SPDYDictionary.bytes
        #expect(bytes.count == 1423)
        // zlib's Adler-32, which it writes as the dictionary id of the first block.
        var a: UInt32 = 1
        var b: UInt32 = 0
        for byte in bytes {
            a = (a + UInt32(byte)) % 65521
            b = (b + a) % 65521
        }
        #expect(b << 16 | a == 0xe3c6_a7c2)
    }

    @Test func headerBlocksCompressAsZlibDoes() throws {
        let deflater = try SPDYHeaderDeflater()
        #expect(try deflater.compress(SPDYHeaderBlock.encode(Self.errorHeaders)) == Self.errorBlock)
        #expect(try deflater.compress(SPDYHeaderBlock.encode(Self.dataHeaders)) == Self.dataBlock)
    }

    @Test func headerBlocksDecompressFromZlib() throws {
        let inflater = try SPDYHeaderInflater()
        #expect(try SPDYHeaderBlock.decode(inflater.decompress(Self.errorBlock)) == Self.errorHeaders)
        #expect(try SPDYHeaderBlock.decode(inflater.decompress(Self.dataBlock)) == Self.dataHeaders)
    }

    @Test func headerNamesAreLowerCaseAndValuesSplitAtNUL() {
        let headers = SPDYHeaders([(name: "StreamType", value: "data"), (name: "X-Multi", value: "a\0b")])
        #expect(headers.fields.map(\.name) == ["streamtype", "x-multi"])
        #expect(headers["STREAMTYPE"] == "data")
        #expect(headers["x-multi"] == "a")
        #expect(headers["missing"] == nil)
    }

    @Test func malformedHeaderBlocksAreRefused() {
        // Two pairs announced, none there.
        #expect(throws: SPDYHeaderBlock.Malformed.self) { try SPDYHeaderBlock.decode([0, 0, 0, 2]) }
        // A name whose length runs past the block.
        #expect(throws: SPDYHeaderBlock.Malformed.self) { try SPDYHeaderBlock.decode([0, 0, 0, 1, 0, 0, 0, 9, 0x61, 0, 0, 0, 0]) }
    }

    static let frames: [SPDYFrame] = [
        .synStream(streamID: 1, associatedTo: 0, priority: 3, flags: SPDYFrame.flagUnidirectional, headers: errorHeaders),
        .synStream(streamID: 3, associatedTo: 0, priority: 0, flags: 0, headers: dataHeaders),
        .synReply(streamID: 1, flags: 0, headers: SPDYHeaders()),
        .synReply(streamID: 3, flags: SPDYFrame.flagFin, headers: ["x-stream-protocol-version": "portforward.k8s.io"]),
        .rstStream(streamID: 5, status: .cancel),
        .settings(flags: 0, [.init(flags: 1, id: SPDYFrame.Setting.initialWindowSize, value: 1 << 20), .init(flags: 0, id: 4, value: 100)]),
        .ping(id: 7),
        .goAway(lastGoodStreamID: 9, status: 0),
        .headers(streamID: 3, flags: 0, headers: ["a": "b"]),
        .windowUpdate(streamID: 3, delta: 32768),
        .data(streamID: 3, flags: 0, ByteBuffer(string: "hello")),
        .data(streamID: 3, flags: SPDYFrame.flagFin, ByteBuffer()),
        .data(streamID: 1, flags: 0, ByteBuffer(bytes: [UInt8](repeating: 0xab, count: 70_000))),
    ]

    @Test func framesRoundTrip() throws {
        let encoder = try SPDYFrameEncoder()
        let parser = try SPDYFrameParser()
        for frame in Self.frames {
            parser.append(try encoder.encode(frame))
            #expect(try parser.next() == frame)
            #expect(try parser.next() == nil)
        }
    }

    @Test func framesArriveInAnyPieces() throws {
        let encoder = try SPDYFrameEncoder()
        var wire = ByteBuffer()
        for frame in Self.frames { var bytes = try encoder.encode(frame); wire.writeBuffer(&bytes) }
        let parser = try SPDYFrameParser()
        var parsed: [SPDYFrame] = []
        // One byte at a time, as a WebSocket tunnel or TCP may split them.
        while let byte = wire.readSlice(length: 1) {
            parser.append(byte)
            while let frame = try parser.next() { parsed.append(frame) }
        }
        #expect(parsed == Self.frames)
    }

    @Test func knownWireBytes() throws {
        let encoder = try SPDYFrameEncoder()
        let ping = try encoder.encode(.ping(id: 1))
        #expect(Array(ping.readableBytesView) == [0x80, 0x03, 0x00, 0x06, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01])
        let data = try encoder.encode(.data(streamID: 3, flags: SPDYFrame.flagFin, ByteBuffer(string: "ab")))
        #expect(Array(data.readableBytesView) == [0x00, 0x00, 0x00, 0x03, 0x01, 0x00, 0x00, 0x02, 0x61, 0x62])
        // A SYN_STREAM as spdystream writes it: its header block is the zlib bytes above.
        let syn = try encoder.encode(.synStream(streamID: 1, associatedTo: 0, priority: 0, flags: 0, headers: Self.errorHeaders))
        let expected: [UInt8] = [0x80, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, UInt8(10 + Self.errorBlock.count),
                                 0, 0, 0, 1, 0, 0, 0, 0, 0, 0] + Self.errorBlock
        #expect(Array(syn.readableBytesView) == expected)
    }

    /// A DATA frame written as its header beside its payload (the relay's way, no copy) is the
    /// frame the encoder makes whole, and the parser reads it back.
    @Test func dataHeaderBesidePayloadIsTheWholeFrame() throws {
        let payload = ByteBuffer(bytes: (0..<70_000).map { UInt8(truncatingIfNeeded: $0) })
        let whole = try SPDYFrameEncoder().encode(.data(streamID: 5, flags: 0, payload))
        var split = SPDYFrameEncoder.dataHeader(streamID: 5, flags: 0, length: payload.readableBytes)
        #expect(split.readableBytes == 8)
        var rest = payload
        split.writeBuffer(&rest)
        #expect(split == whole)
        let parser = try SPDYFrameParser()
        parser.append(split)
        #expect(try parser.next() == .data(streamID: 5, flags: 0, payload))
    }

    @Test func otherVersionsAndHugeControlFramesAreProtocolErrors() throws {
        let parser = try SPDYFrameParser()
        parser.append(ByteBuffer(bytes: [0x80, 0x02, 0x00, 0x06, 0x00, 0x00, 0x00, 0x04, 0, 0, 0, 1]))
        #expect(throws: SPDYProtocolError.self) { try parser.next() }
        let huge = try SPDYFrameParser()
        huge.append(ByteBuffer(bytes: [0x80, 0x03, 0x00, 0x01, 0x00, 0xff, 0xff, 0xff]))
        #expect(throws: SPDYProtocolError.self) { try huge.next() }
    }

    @Test func unknownControlFramesAreSkipped() throws {
        let parser = try SPDYFrameParser()
        // Type 10 (not in SPDY/3.1), then a PING.
        parser.append(ByteBuffer(bytes: [0x80, 0x03, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x02, 0xaa, 0xbb,
                                         0x80, 0x03, 0x00, 0x06, 0x00, 0x00, 0x00, 0x04, 0, 0, 0, 9]))
        #expect(try parser.next() == .ping(id: 9))
    }
}
