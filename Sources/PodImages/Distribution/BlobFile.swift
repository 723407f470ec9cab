import Glibc
import NIOCore

/// A blob being written into an OCI layout: a temporary file beside its final path, its
/// SHA-256 and size computed as bytes arrive, and a commit that checks both, syncs the file,
/// and renames it into place. A blob that fails or is abandoned leaves nothing behind.
final class BlobFile {
    let expected: Descriptor
    let finalPath: String
    let temporaryPath: String
    private var fd: Int32
    private var hasher = SHA256Hasher()
    private(set) var received: Int64 = 0
    /// What the blob is, for messages: `layer sha256:...`.
    let what: String

    init(_ descriptor: Descriptor, in layout: OCILayout, what: String) throws {
        expected = descriptor
        finalPath = layout.blobPath(descriptor.digest)
        temporaryPath = "\(layout.root)/blobs/\(descriptor.digest.algorithm)/.\(descriptor.digest.encoded).partial"
        self.what = what
        fd = open(temporaryPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw Self.storageError(errno, "create \(temporaryPath) for \(what)") }
    }

    deinit {
        // Not committed: nothing half-written stays.
        if fd >= 0 {
            close(fd)
            unlink(temporaryPath)
        }
    }

    /// Starts over (the registry ignored a Range request and sent the whole blob).
    func restart() throws {
        guard ftruncate(fd, 0) == 0, lseek(fd, 0, SEEK_SET) == 0 else { throw Self.storageError(errno, "truncate \(temporaryPath)") }
        hasher = SHA256Hasher()
        received = 0
    }

    func append(_ buffer: ByteBuffer) throws {
        try buffer.withUnsafeReadableBytes { raw in try append(raw) }
    }

    func append(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { raw in try append(raw) }
    }

    /// Hashes and writes `raw`; more bytes than the descriptor's size is corruption, caught
    /// before they are written.
    func append(_ raw: UnsafeRawBufferPointer) throws {
        guard !raw.isEmpty, let base = raw.baseAddress else { return }
        guard received + Int64(raw.count) <= expected.size else {
            throw FetchError(.corrupt, "\(what): the registry sent more than the \(expected.size) bytes its descriptor gives: the registry's content is corrupt")
        }
        hasher.update(raw)
        var written = 0
        while written < raw.count {
            let n = write(fd, base + written, raw.count - written)
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { throw Self.storageError(n < 0 ? errno : ENOSPC, "write \(what) to \(temporaryPath)") }
            written += n
        }
        received += Int64(raw.count)
    }

    /// Checks size and digest, syncs, and renames the blob into place.
    func commit() throws {
        guard received == expected.size else {
            throw FetchError(.corrupt, "\(what): the registry sent \(received) bytes, its descriptor gives \(expected.size): the registry's content is corrupt")
        }
        var finished = SHA256Hasher()
        swap(&finished, &hasher)
        let actual = finished.finish()
        guard actual == expected.digest else {
            throw FetchError(.corrupt, "\(what): unexpected commit digest \(actual), expected \(expected.digest): failed precondition (the registry's copy is corrupt)")
        }
        guard fsync(fd) == 0 else { throw Self.storageError(errno, "sync \(temporaryPath)") }
        close(fd)
        fd = -1
        guard rename(temporaryPath, finalPath) == 0 else {
            let code = errno
            unlink(temporaryPath)
            throw Self.storageError(code, "rename \(temporaryPath) to \(finalPath)")
        }
    }

    static func storageError(_ code: Int32, _ what: String) -> FetchError {
        let text = String(cString: strerror(code)).lowercased()
        let hint = code == ENOSPC || code == EDQUOT ? " (the filesystem of podd's image store is full: free space under the state dir)" : ""
        return FetchError(.storage(errno: code), "failed to \(what): \(text)\(hint)")
    }
}
