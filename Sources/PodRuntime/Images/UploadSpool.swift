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

extension ImageStore {
    /// Imports a spooled upload (consumed) as image `ref`; tar runs and is waited for on a
    /// thread of its own, off the cooperative pool.
    public func importUpload(_ ref: ImageReference, path: String) async throws(RuntimeError) -> Image {
        let result: Result<Image, StoreError> = await withCheckedContinuation { done in
            DetachedThread.run {
                do throws(StoreError) {
                    done.resume(returning: .success(try self.importTarball(ref, tarPath: path, now: RuntimeClock.now())))
                } catch {
                    done.resume(returning: .failure(error))
                }
            }
        }
        do { return try result.get() } catch {
            throw error.runtimeError(importing: ref)
        }
    }

    /// Removes an image (`remove`), as a runtime error when it cannot be.
    public func delete(_ ref: ImageReference) throws(RuntimeError) {
        do { try remove(ref) } catch {
            if case .notFound = error { throw .notFound(kind: "images", name: ref.description) }
            throw .internalError("cannot remove image \(ref): \(error)")
        }
    }
}

extension ImageStore.StoreError {
    /// What the API answers for a failed import of `ref`.
    public func runtimeError(importing ref: ImageReference) -> RuntimeError {
        switch self {
        case let .unpackFailed(message):
            return .invalidRequest("cannot import image \(ref): not a valid tar archive: \(message)")
        case let .io(error) where error.code == ENOSPC || error.code == EDQUOT:
            return .insufficientStorage(what: "cannot import image \(ref)", reason: "\(error); free space in podd's state directory")
        case .notFound:
            return .notFound(kind: "images", name: ref.description)
        default:
            return .internalError("cannot import image \(ref): \(self)")
        }
    }
}
