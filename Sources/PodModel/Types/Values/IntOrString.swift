/// A value that is either a number or a string, as Kubernetes' intstr.IntOrString: a probe's
/// `port: 8080` or `port: http`.
public enum IntOrString: Sendable, Hashable, CustomStringConvertible {
    case int(Int32)
    case string(String)

    /// The JSON form: a number or a string.
    public var json: JSONValue {
        switch self {
        case .int(let number): return .int(Int64(number))
        case .string(let text): return .string(text)
        }
    }

    public var description: String {
        switch self {
        case .int(let number): return String(number)
        case .string(let text): return text
        }
    }
}
