import CZlib

/// Why a header block could not be read or written.
struct SPDYCompressionError: Error, Sendable, CustomStringConvertible {
    var stage: String
    var code: Int32

    var description: String { "SPDY header block: \(stage) failed (zlib \(code))" }
}

/// The compressing end of a connection's header blocks: one zlib stream for the connection's
/// whole life, primed with SPDY/3's dictionary, each block ended with a sync flush so the
/// peer can read it at once (SPDY/3 section 2.6.10.1).
final class SPDYHeaderDeflater {
    private var stream = z_stream()
    private var ready = false

    init() throws(SPDYCompressionError) {
        // Go's spdy framer (kubectl's) compresses at its best level: blocks are tiny.
        let rc = czlib_deflate_init(&stream, Z_BEST_COMPRESSION)
        guard rc == Z_OK else { throw SPDYCompressionError(stage: "deflateInit", code: rc) }
        ready = true
        let dictionary = SPDYDictionary.bytes
        let set = dictionary.withUnsafeBufferPointer { deflateSetDictionary(&stream, $0.baseAddress, uInt($0.count)) }
        guard set == Z_OK else { throw SPDYCompressionError(stage: "deflateSetDictionary", code: set) }
    }

    deinit { if ready { deflateEnd(&stream) } }

    /// `block` compressed, continuing the connection's stream.
    func compress(_ block: [UInt8]) throws(SPDYCompressionError) -> [UInt8] {
        var input = block
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: max(256, block.count + 64))
        var rc: Int32 = Z_OK
        input.withUnsafeMutableBufferPointer { inBuf in
            stream.next_in = inBuf.baseAddress
            stream.avail_in = uInt(inBuf.count)
            repeat {
                chunk.withUnsafeMutableBufferPointer { outBuf in
                    stream.next_out = outBuf.baseAddress
                    stream.avail_out = uInt(outBuf.count)
                    rc = deflate(&stream, Z_SYNC_FLUSH)
                    output += outBuf[0..<(outBuf.count - Int(stream.avail_out))]
                }
            } while rc == Z_OK && stream.avail_out == 0
            stream.next_in = nil
        }
        guard rc == Z_OK || rc == Z_BUF_ERROR else { throw SPDYCompressionError(stage: "deflate", code: rc) }
        return output
    }
}

/// The reading end: one zlib stream for the connection's whole life; the dictionary is given
/// when zlib asks for it (the first block).
final class SPDYHeaderInflater {
    private var stream = z_stream()
    private var ready = false
    /// The largest decompressed block accepted (a zlib bomb stops here).
    static let limit = 256 << 10

    init() throws(SPDYCompressionError) {
        let rc = czlib_inflate_init(&stream)
        guard rc == Z_OK else { throw SPDYCompressionError(stage: "inflateInit", code: rc) }
        ready = true
    }

    deinit { if ready { inflateEnd(&stream) } }

    /// The block `compressed` holds, continuing the connection's stream.
    func decompress(_ compressed: [UInt8]) throws(SPDYCompressionError) -> [UInt8] {
        var input = compressed
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        var failure: SPDYCompressionError?
        input.withUnsafeMutableBufferPointer { inBuf in
            stream.next_in = inBuf.baseAddress
            stream.avail_in = uInt(inBuf.count)
            defer { stream.next_in = nil }
            while true {
                var rc: Int32 = Z_OK
                var produced = 0
                chunk.withUnsafeMutableBufferPointer { outBuf in
                    stream.next_out = outBuf.baseAddress
                    stream.avail_out = uInt(outBuf.count)
                    rc = inflate(&stream, Z_SYNC_FLUSH)
                    produced = outBuf.count - Int(stream.avail_out)
                    output += outBuf[0..<produced]
                }
                if rc == Z_NEED_DICT {
                    let dictionary = SPDYDictionary.bytes
                    let set = dictionary.withUnsafeBufferPointer { inflateSetDictionary(&stream, $0.baseAddress, uInt($0.count)) }
                    if set != Z_OK { failure = SPDYCompressionError(stage: "inflateSetDictionary", code: set); return }
                    continue
                }
                if output.count > Self.limit { failure = SPDYCompressionError(stage: "inflate (block over \(Self.limit) bytes)", code: Z_DATA_ERROR); return }
                if rc == Z_BUF_ERROR || (rc == Z_OK && stream.avail_in == 0 && produced < chunk.count) { return }
                if rc != Z_OK { failure = SPDYCompressionError(stage: "inflate", code: rc); return }
            }
        }
        if let failure { throw failure }
        return output
    }
}
