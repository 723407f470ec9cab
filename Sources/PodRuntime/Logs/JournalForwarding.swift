import Glibc
import PodModel
import PodOS
import Synchronization

/// Whether containers' output goes to the systemd journal as well as to their CRI log files
/// (config `journal: auto|on|off`), and with which fields. The monitor does the forwarding
/// (docs/monitor-protocol.md, `journal` and `journal.field` in `spawn`), so it goes on while
/// podd is away; podd decides at each container start.
///
/// Process-wide: podd runs one daemon per process, and the setting changes only at start-up
/// and on a config reload (for containers started after it).
public enum JournalForwarding {
    /// journald's native protocol socket.
    public static let defaultSocket = "/run/systemd/journal/socket"

    private static let target = Mutex<String?>(nil)

    /// The socket containers' output is forwarded to, nil when it is not.
    public static var socket: String? { target.withLock { $0 } }

    /// Applies the config's `journal` mode. `auto` forwards when podd runs under systemd (the
    /// service manager gave it INVOCATION_ID, JOURNAL_STREAM or NOTIFY_SOCKET) and journald
    /// listens; `on` forwards whenever the socket exists. Returns the socket chosen, or nil.
    @discardableResult
    public static func configure(mode: String, socket path: String = defaultSocket) -> String? {
        let chosen: String?
        switch mode {
        case "off": chosen = nil
        case "on": chosen = path
        default:
            let names: [String] = ["INVOCATION_ID", "JOURNAL_STREAM", "NOTIFY_SOCKET"]
            let underSystemd = names.contains { getenv($0) != nil }
            chosen = underSystemd && FileSystem.exists(path) ? path : nil
        }
        target.withLock { $0 = chosen }
        return chosen
    }

    /// The `spawn` fields that make the monitor forward a container's lines, with the fields
    /// `journalctl POD_NAME=...` matches on. Nothing when forwarding is off.
    static func spawnFields(pod: Pod, container: String, containerID: String?) -> [(String, String)] {
        guard let socket else { return [] }
        var fields: [(String, String)] = [("journal", socket)]
        func field(_ key: String, _ value: String) {
            // A value with a newline cannot be sent as KEY=VALUE (the monitor refuses it):
            // names and uids never hold one.
            guard !value.contains("\n") else { return }
            fields.append(("journal.field", key + "=" + value))
        }
        field("POD_NAME", pod.metadata.name)
        field("POD_NAMESPACE", pod.metadata.namespace)
        field("POD_UID", pod.metadata.uid ?? "")
        field("CONTAINER_NAME", container)
        if let containerID { field("CONTAINER_ID", Self.shortID(containerID)) }
        field("SYSLOG_IDENTIFIER", container)
        return fields
    }

    /// "podd://0123abcd..." -> "0123abcd..." (what `journalctl CONTAINER_ID=` is given).
    static func shortID(_ id: String) -> String {
        guard let r = id.range(of: "://") else { return id }
        return String(id[r.upperBound...])
    }
}
