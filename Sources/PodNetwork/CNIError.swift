/// Why a pod's network could not be set up or torn down. A plugin's own error object
/// (`{"code", "msg", "details"}`) is carried verbatim, with the plugin and the operation, as
/// containerd and CRI-O report it (`plugin type="bridge" failed (add): ...`).
public enum CNIError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The configuration list is missing or wrong.
    case config(String)
    /// No binary for the plugin in any of the plugin directories.
    case pluginMissing(type: String, directories: [String])
    /// The plugin ran and failed: its error object, or what it wrote when it had none.
    case plugin(type: String, operation: String, code: Int64?, message: String, details: String?)
    /// The plugin could not be run, or its answer not read.
    case exec(type: String, operation: String, message: String)
    /// podd's own part (the saved state, the namespace handle) failed.
    case runtime(String)

    public var description: String {
        switch self {
        case let .config(m): return "CNI network configuration: \(m)"
        case let .pluginMissing(type, dirs):
            return "plugin type=\"\(type)\" failed: failed to find plugin \"\(type)\" in path \(dirs) (install containernetworking-plugins or set network.cniBinDir)"
        case let .plugin(type, op, code, message, details):
            var text = "plugin type=\"\(type)\" failed (\(op)): \(message)"
            if let details, !details.isEmpty { text += ": \(details)" }
            if let code { text += " (CNI error code \(code))" }
            return text
        case let .exec(type, op, m): return "plugin type=\"\(type)\" failed (\(op)): \(m)"
        case let .runtime(m): return m
        }
    }
}
