import Glibc

/// Why the image store could not do what it was asked, as the user should read it: the
/// message names the image, blob, layer member or file and what to do.
public struct ImageStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The input is not a usable image (bad archive, digest mismatch, unsafe member): 400.
        case invalidInput
        /// No such image: 404.
        case notFound
        /// The image is in use, or the store changed under the operation: 409.
        case conflict
        /// The disk refused a write (ENOSPC, EDQUOT: 507; else 500).
        case storage(errno: Int32)
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    static func invalid(_ message: String) -> ImageStoreError { ImageStoreError(.invalidInput, message) }

    /// The last system call failed: `what` says which and on what.
    static func system(_ what: String, _ code: Int32 = errno) -> ImageStoreError {
        var message = "\(what): \(String(cString: strerror(code)))"
        if code == ENOSPC || code == EDQUOT { message += "; free space in podd's state directory" }
        return ImageStoreError(.storage(errno: code), message)
    }

    /// Whether the disk was full (the API answers 507).
    public var isDiskFull: Bool {
        if case let .storage(code) = kind { return code == ENOSPC || code == EDQUOT }
        return false
    }
}
