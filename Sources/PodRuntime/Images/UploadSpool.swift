import Glibc
import PodModel
import PodOS

/// A large request body (an image archive) written to a file in the image store's incoming
/// directory as it arrives, so that an upload costs podd no memory. The file is removed
/// when the upload fails, is refused, or is abandoned (the spool is released without being
/// taken); `ImageStore` clears what a crashed podd left at its next start.
///
/// One writer at a time: the connection that receives the body.
public final class UploadSpool: @unchecked Sendable {
    /// Why the body could not be spooled.
    public enum Failure: Error, Sendable, Equatable {
        /// The body is larger than the limit (bytes).
        case tooLarge(limit: Int)
        /// It could not be written (a full disk): what the API answers.
        case storage(RuntimeError)
    }

    public let path: String
    public let limit: Int
    public private(set) var size = 0
    public private(set) var failure: Failure?
    private var fd: Int32
    private var taken = false

    /// A new spool file in `directory`, for a body of at most `limit` bytes.
    public init(directory: String, limit: Int) {
        self.limit = limit
        var template = Array((directory + "/upload-XXXXXX").utf8CString)
        let opened = template.withUnsafeMutableBufferPointer { buffer -> Int32 in
            guard let base = buffer.baseAddress else { return -1 }
            return mkstemp(base)
        }
        if opened >= 0 { _ = fcntl(opened, F_SETFD, FD_CLOEXEC) }
        fd = opened
        path = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        if opened < 0 { failure = Self.storageFailure(OSError.last("create a spool file in \(directory)")) }
    }

    deinit { if !taken { discard() } }

    /// Appends a part of the body; false once the spool has failed (see `failure`; the file
    /// is gone then).
    @discardableResult
    public func append(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard failure == nil, fd >= 0 else { return false }
        size += bytes.count
        if size > limit {
            failure = .tooLarge(limit: limit)
            discard()
            return false
        }
        var offset = 0
        while offset < bytes.count, let base = bytes.baseAddress {
            let n = Glibc.write(fd, base + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                failure = Self.storageFailure(OSError.last("write(\(path))"))
                discard()
                return false
            }
            offset += n
        }
        return true
    }

    /// The whole body is in: the file is the caller's from now on (`ImageStore.importUpload`
    /// consumes it). Its path and size.
    public func take() -> (path: String, size: Int) {
        if fd >= 0 { close(fd) }
        fd = -1
        taken = true
        return (path, size)
    }

    /// Drops the upload and its file.
    public func discard() {
        if fd >= 0 { close(fd) }
        fd = -1
        taken = true
        unlink(path)
    }

    /// Removes the file of an upload that was taken but not consumed.
    public static func remove(_ path: String) { unlink(path) }

    private static func storageFailure(_ error: OSError) -> Failure {
        let reason = "\(error)"
        if error.code == ENOSPC || error.code == EDQUOT {
            return .storage(.insufficientStorage(what: "cannot receive the upload", reason: reason + "; free space in podd's state directory"))
        }
        return .storage(.internalError("cannot receive the upload: \(reason)"))
    }
}
