import Glibc
import PodModel

/// Which host paths a pod may mount as `hostPath` volumes. Never the host's root, nor podd's
/// own directories (state, run, static pods) or API socket, nor a directory that holds
/// one of them: a pod that saw them could read every pod's state or drive podd through its
/// socket. With `hostPathAllow` set in the config, only paths under one of its entries.
/// Paths are judged as the kernel would mount them, symlinks resolved: `/data/link -> /` is
/// the host's root.
public struct HostPathPolicy: Sendable {
    /// podd's own directories, resolved.
    let own: [String]
    /// The config's hostPathAllow, resolved; empty: any path but the refused ones.
    let allowed: [String]

    public init(config: PoddConfig) {
        // The API socket itself, not its directory: a sibling of the socket is no one's secret.
        own = [config.stateDir, config.runDir, config.manifestsDir, config.socket]
            .filter { !$0.isEmpty }.map(Self.resolve)
        allowed = config.hostPathAllow.map(Self.resolve)
    }

    /// Why `path` may not be mounted, or nil when it may.
    public func refusal(_ path: String) -> String? {
        let resolved = Self.resolve(path)
        let shown = resolved == path ? path : "\(path) (\(resolved))"
        if resolved == "/" { return "\(shown) is the host's root directory" }
        for dir in own where Self.contains(dir, resolved) || Self.contains(resolved, dir) {
            return "\(shown) is, holds or lies in podd's own \(dir): pods may not see podd's state, sockets or manifests"
        }
        if !allowed.isEmpty && !allowed.contains(where: { Self.contains($0, resolved) }) {
            return "\(shown) is not under any entry of the config's hostPathAllow (\(allowed.joined(separator: ", ")))"
        }
        return nil
    }

    /// The admission causes of a pod's hostPath volumes (422, naming the field).
    public func causes(_ pod: Pod) -> [RuntimeError.Cause] {
        pod.spec.volumes.enumerated().compactMap { index, volume in
            guard case let .hostPath(h) = volume.source, let why = refusal(h.path) else { return nil }
            return .init(reason: "FieldValueForbidden", message: "Forbidden: \(why)",
                         field: "spec.volumes[\(index)].hostPath.path")
        }
    }

    /// Whether `path` is `dir` or below it (both resolved, absolute).
    static func contains(_ dir: String, _ path: String) -> Bool {
        dir == "/" || path == dir || path.hasPrefix(dir + "/")
    }

    /// `path` with every symlink resolved: the longest existing prefix through realpath(3),
    /// the rest (a path `DirectoryOrCreate` will make) appended as written, `..` included in
    /// what realpath resolves.
    public static func resolve(_ path: String) -> String {
        var head = path
        var tail: [Substring] = []
        while true {
            if let real = realpath(head, nil) {
                defer { free(real) }
                let base = String(cString: real)
                if tail.isEmpty { return base }
                let joined = (base == "/" ? "" : base) + "/" + tail.reversed().joined(separator: "/")
                // A missing part may still hold `..`: normalise what remains lexically.
                return normalise(joined)
            }
            guard let slash = head.lastIndex(of: "/"), head != "/" else { return normalise(path) }
            tail.append(head[head.index(after: slash)...])
            head = slash == head.startIndex ? "/" : String(head[..<slash])
        }
    }

    /// `.` and `..` and repeated slashes removed, lexically.
    static func normalise(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/") {
            if part == "." { continue }
            if part == ".." { _ = parts.popLast(); continue }
            parts.append(part)
        }
        return "/" + parts.joined(separator: "/")
    }
}
