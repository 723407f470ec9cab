import PodModel
import PodOS
import Synchronization

/// The host IDs each `hostUsers: false` pod's user namespace maps to: 65536 per pod (as
/// kubelet gives each pod), slice N being `firstID + N * 65536`, up to `maxPods` slices
/// (config `userNamespaces`). A pod keeps its slice for as long as its monitor lives; the
/// slice is written to the pod's run dir so that a restarted podd re-adopting the pod claims
/// it again instead of handing it to another pod.
public final class UserNamespaceRanges: Sendable {
    /// IDs per pod: 0-65535 inside, as kubelet maps them.
    public static let idsPerPod: UInt32 = 65536
    /// The one allocator of this podd (all pods share the configured range).
    public static let shared = UserNamespaceRanges()

    private let used = Mutex<[String: Int]>([:])

    /// The file in a pod's run dir that records its slice.
    static func recordPath(_ runDirectory: String) -> String { runDirectory + "/userns" }

    /// A free slice for pod `uid` (its own if it has one): the first host ID, or nil when all
    /// `maxPods` are taken.
    func allocate(uid: String, settings: PoddConfig.UserNamespaceSettings) -> UInt32? {
        used.withLock { used -> UInt32? in
            let slice: Int
            if let mine = used[uid] {
                slice = mine
            } else {
                let taken = Set(used.values)
                guard let free = (0..<settings.maxPods).first(where: { !taken.contains($0) }) else { return nil }
                slice = free
                used[uid] = slice
            }
            return settings.firstID + UInt32(slice) * Self.idsPerPod
        }
    }

    /// Marks the slice recorded in `runDirectory` as pod `uid`'s (re-adoption).
    func claim(uid: String, runDirectory: String, settings: PoddConfig.UserNamespaceSettings) {
        guard let text = FileSystem.readString(Self.recordPath(runDirectory)),
              let base = text.split(whereSeparator: { $0 == "\n" || $0 == " " }).first.flatMap({ UInt32($0) }), base >= settings.firstID else { return }
        let slice = Int((base - settings.firstID) / Self.idsPerPod)
        used.withLock { $0[uid] = slice }
    }

    /// The pod's network namespace belongs to the host's user namespace, not the pod's, so
    /// root in the pod holds no capability over it: ports below 1024 and ICMP sockets are
    /// opened to every ID instead (both settings of the pod's own namespace, as rootless
    /// Docker and podman set them), unless the pod sets them itself.
    static func networkSysctls(besides own: [Sysctl]) -> [String] {
        let names = Set(own.map { SecurityContextValidation.normalizedSysctl($0.name) })
        var out: [String] = []
        if !names.contains("net.ipv4.ip_unprivileged_port_start") { out.append("net.ipv4.ip_unprivileged_port_start=0") }
        if !names.contains("net.ipv4.ping_group_range") { out.append("net.ipv4.ping_group_range=0 2147483647") }
        return out
    }

    /// The pod's slice is free again (its monitor is gone).
    func release(uid: String) {
        _ = used.withLock { $0.removeValue(forKey: uid) }
    }
}
