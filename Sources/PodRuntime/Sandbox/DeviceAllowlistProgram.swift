import Glibc
import PodOS
import Synchronization

/// The containers' device allowlist, a BPF program of the kernel's (see the monitor's
/// devices.h), kept by podd once a monitor has loaded it: loading one runs the kernel's
/// verifier, about 0.5 ms of CPU, and the program is the same for every container. The
/// first monitor that loads it hands its fd to podd (op=devices), and podd gives it to
/// every monitor it starts after that, with its first spawn (`PodSandbox.send`); each
/// monitor attaches it to its containers' cgroups. The fd is close-on-exec here and in the
/// monitors: no container ever holds it.
final class DeviceAllowlistProgram: Sendable {
    static let shared = DeviceAllowlistProgram()

    private let held = Mutex<Int32>(-1)

    /// The program's fd while podd holds one (valid as long as podd runs: it is never closed).
    var fd: Int32? {
        let fd = held.withLock { $0 }
        return fd >= 0 ? fd : nil
    }

    /// Takes the first of `fds` (a monitor's program) when podd has none yet and it is a
    /// device program; closes the rest.
    func offer(_ fds: [Int32]) {
        var rest = fds[...]
        if let first = rest.first, Self.isDeviceProgram(first) {
            let kept = held.withLock { fd -> Bool in
                guard fd < 0 else { return false }
                fd = first
                return true
            }
            if kept { rest = rest.dropFirst() }
        }
        rest.forEach { close($0) }
    }

    /// Whether `fd` is a BPF program of the cgroup device type (BPF_PROG_TYPE_CGROUP_DEVICE,
    /// 15), as its fdinfo says: anything else would only fail every monitor's attach.
    static func isDeviceProgram(_ fd: Int32) -> Bool {
        guard let info = FileSystem.readString("/proc/self/fdinfo/\(fd)") else { return false }
        return info.split(separator: "\n").contains { $0.hasPrefix("prog_type:") && $0.split(separator: "\t").last == "15" }
    }
}
