import CImageCodecs
import Glibc

/// Bytes read in pieces from a file, a decompressor or a hash: what a layer's tar is read
/// through while it is unpacked, so that no layer is ever held in memory whole.
public protocol ByteSource: AnyObject {
    /// Reads up to `buffer.count` bytes; 0 at the end of the stream.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(ImageStoreError) -> Int
}

/// A file read from its start (the caller owns nothing: the source closes the file).
public final class FileSource: ByteSource {
    private var fd: Int32
    public let path: String

    public init(path: String) throws(ImageStoreError) {
        fd = open(path, O_RDONLY | O_CLOEXEC)
        self.path = path
        guard fd >= 0 else { throw ImageStoreError.system("open \(path)") }
    }

    deinit { if fd >= 0 { close(fd) } }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(ImageStoreError) -> Int {
        while true {
            let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if n < 0, errno == EINTR { continue }
            guard n >= 0 else { throw ImageStoreError.system("read \(path)") }
            return n
        }
    }
}

/// Passes bytes through and hashes them: a blob's digest, or a layer's diff_id, checked as
/// the layer is unpacked.
public final class HashingSource: ByteSource {
    private let inner: any ByteSource
    private var hasher: SHA256Hasher? = SHA256Hasher()
    public private(set) var count: Int64 = 0

    public init(_ inner: any ByteSource) { self.inner = inner }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(ImageStoreError) -> Int {
        let n = try inner.read(into: buffer)
        if n > 0 {
            hasher?.update(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            count += Int64(n)
        }
        return n
    }

    /// Reads what is left (a tar's padding after its end blocks belongs to the digest too)
    /// and returns the digest of everything.
    public func finish() throws(ImageStoreError) -> Digest {
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 65536, alignment: 16)
        defer { scratch.deallocate() }
        while try read(into: scratch) > 0 {}
        guard let hasher = hasher.take() else { return Digest.sha256(of: []) }
        return hasher.finish()
    }
}

/// Decompresses gzip or zstd as it is read.
public final class DecompressingSource: ByteSource {
    private let inner: any ByteSource
    private let decoder: OpaquePointer
    private let what: String
    private let input = UnsafeMutableRawBufferPointer.allocate(byteCount: 131072, alignment: 16)
    private var start = 0
    private var end = 0
    private var innerEnded = false
    private var streamEnded = false

    /// `what` names the blob in errors.
    public init(_ inner: any ByteSource, compression: MediaType.Compression, what: String) throws(ImageStoreError) {
        self.inner = inner
        self.what = what
        let kind: Int32 = compression == .zstd ? Int32(POD_CODEC_ZSTD) : Int32(POD_CODEC_GZIP)
        guard let decoder = pod_decompressor_new(kind) else {
            input.deallocate()
            throw ImageStoreError(.storage(errno: ENOMEM), "\(what): cannot make a decompressor")
        }
        self.decoder = decoder
    }

    deinit {
        pod_decompressor_free(decoder)
        input.deallocate()
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(ImageStoreError) -> Int {
        while true {
            if start == end, !innerEnded {
                start = 0
                end = try inner.read(into: input)
                if end == 0 { innerEnded = true }
            }
            if start == end, innerEnded {
                guard streamEnded else { throw ImageStoreError.invalid("\(what): the compressed data is truncated") }
                return 0
            }
            var used = 0
            var produced = 0
            let rc = pod_decompress(decoder, input.baseAddress.map { $0 + start }, end - start, &used, buffer.baseAddress,
                                    buffer.count, &produced)
            start += used
            if rc == Int32(POD_DECOMPRESS_ERROR) {
                throw ImageStoreError.invalid("\(what): not valid compressed data (\(String(cString: pod_decompress_error(decoder))))")
            }
            streamEnded = rc == Int32(POD_DECOMPRESS_END)
            if produced > 0 { return produced }
            if used == 0, start != end, !streamEnded {
                throw ImageStoreError.invalid("\(what): the decompressor made no progress")
            }
        }
    }
}

/// How a blob's first bytes say it is compressed (a rootfs tarball or a docker-archive
/// layer has no media type to tell).
public func sniffCompression(path: String) -> MediaType.Compression {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return .none }
    defer { close(fd) }
    var magic = [UInt8](repeating: 0, count: 4)
    guard Glibc.read(fd, &magic, 4) == 4 else { return .none }
    if magic[0] == 0x1f, magic[1] == 0x8b { return .gzip }
    if magic == [0x28, 0xb5, 0x2f, 0xfd] { return .zstd }
    return .none
}
