/// Rules for strings that end up as a C string: a path podd mounts or changes into, or an
/// element of a process's argv or environment.
///
/// The kernel reads such strings up to their first NUL byte, so `/tmp\0/etc` would silently
/// become `/tmp`, and an argument would lose its tail. Kubernetes' exec cannot carry a NUL
/// either. podd refuses them at admission, naming the field.
enum ArgvRules {
    /// The message of a value holding a NUL byte.
    static let nulMessage = "must not contain a NUL byte (\\x00)"

    /// An Invalid error at `path` if `value` holds a NUL byte.
    static func noNUL(_ value: String, path: FieldPath) -> [FieldError] {
        value.utf8.contains(0) ? [.invalid(path, .string(value), nulMessage)] : []
    }

    /// An Invalid error at `path[i]` for each element holding a NUL byte.
    static func noNUL(_ values: [String], path: FieldPath) -> [FieldError] {
        values.enumerated().flatMap { index, value in noNUL(value, path: path.index(index)) }
    }
}
