/// Kubernetes' `$(VAR)` expansion (third_party/forked/golang/expansion), used for env values,
/// command and args, and subPathExpr: `$(NAME)` becomes NAME's value when NAME is defined and
/// stays as written otherwise; `$$` is a literal `$` (so `$$(NAME)` is `$(NAME)`); any other
/// `$` is kept.
public enum VariableExpansion {
    public static func expand(_ input: String, _ lookup: (String) -> String?) -> String {
        let bytes = Array(input.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var checkpoint = 0
        var cursor = 0
        while cursor < bytes.count {
            if bytes[cursor] == UInt8(ascii: "$"), cursor + 1 < bytes.count {
                out += bytes[checkpoint..<cursor]
                let rest = bytes[(cursor + 1)...]
                var advance = 1
                switch rest.first {
                case UInt8(ascii: "$"):
                    out.append(UInt8(ascii: "$"))
                case UInt8(ascii: "("):
                    if let close = rest.firstIndex(of: UInt8(ascii: ")")) {
                        let name = String(decoding: bytes[(cursor + 2)..<close], as: UTF8.self)
                        if let value = lookup(name) { out += Array(value.utf8) } else { out += Array("$(\(name))".utf8) }
                        advance = close - cursor
                    } else {
                        out += Array("$(".utf8)
                    }
                default:
                    out.append(UInt8(ascii: "$"))
                    if let first = rest.first { out.append(first) }
                }
                cursor += advance
                checkpoint = cursor + 1
            }
            cursor += 1
        }
        if checkpoint < bytes.count { out += bytes[checkpoint...] }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Environment variable names, as the API server checks them.
public enum EnvironmentVariableName {
    /// Whether `name` may be an environment variable's name (envFrom skips the keys that may not).
    public static func isValid(_ name: String) -> Bool {
        !name.isEmpty && NameRules.environmentVariableNameErrors(name).isEmpty
    }
}
