import Glibc

/// A failed system call: what was attempted (the stage) and errno.
public struct OSError: Error, CustomStringConvertible, Sendable, Equatable {
    public let stage: String
    public let code: Int32

    public init(_ stage: String, code: Int32) {
        self.stage = stage
        self.code = code
    }

    /// The error for the call that just failed (reads errno).
    public static func last(_ stage: String) -> OSError { OSError(stage, code: errno) }

    public var description: String { "\(stage): \(String(cString: strerror(code)))" }
}
