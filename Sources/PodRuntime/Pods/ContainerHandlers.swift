import CPodShim
import Glibc
import PodModel
import PodOS

/// Runs probe and lifecycle-hook handlers against a container, as kubelet does: httpGet and
/// tcpSocket connect from inside the pod's network namespace (so 127.0.0.1 is the pod's
/// loopback), exec runs a command in the container, sleep waits.
struct ContainerHandlers: Sendable {
    /// The pod's network namespace (an fd on /proc/MONITOR/ns/net).
    let netns: NetworkNamespace
    /// Runs a command in the container: its exit code and output, nil on timeout.
    let exec: @Sendable (_ command: [String], _ timeout: Double) async -> (exitCode: Int32, output: String)?

    struct Outcome: Sendable {
        var ok: Bool
        var message: String
    }

    func probe(_ handler: ProbeHandler, container: Container, timeout: Double) async -> Outcome {
        switch handler {
        case let .exec(command): return await runExec(command, timeout: timeout)
        case let .httpGet(h): return await httpGet(h, container: container, timeout: timeout)
        case let .tcpSocket(t):
            guard let port = resolvePort(t.port, container) else {
                return Outcome(ok: false, message: "port \(t.port) is not a port of the container")
            }
            return await tcp(host: t.host ?? "127.0.0.1", port: port, timeout: timeout)
        case .grpc:
            return Outcome(ok: false, message: "grpc probes are not supported by podd")
        }
    }

    func hook(_ handler: LifecycleHandler, container: Container, timeout: Double) async -> Outcome {
        switch handler {
        case let .exec(command): return await runExec(command, timeout: timeout)
        case let .httpGet(h): return await httpGet(h, container: container, timeout: timeout)
        case let .sleep(seconds):
            try? await Task.sleep(for: .seconds(min(Double(seconds), timeout)))
            return Outcome(ok: true, message: "")
        default:
            return Outcome(ok: false, message: "this hook handler is not supported by podd")
        }
    }

    private func runExec(_ command: [String], timeout: Double) async -> Outcome {
        guard let result = await exec(command, timeout) else {
            return Outcome(ok: false, message: "command \(command) timed out after \(Int(timeout))s")
        }
        if result.exitCode == 0 { return Outcome(ok: true, message: result.output) }
        let output = result.output.isEmpty ? "" : ": \(result.output.prefix(1024))"
        return Outcome(ok: false, message: "command \(command) exited with \(result.exitCode)\(output)")
    }

    private func resolvePort(_ port: IntOrString, _ c: Container) -> Int32? {
        switch port {
        case let .int(p): return p
        case let .string(name): return c.ports.first { $0.name == name }?.containerPort
        }
    }

    private func httpGet(_ h: HTTPGetAction, container: Container, timeout: Double) async -> Outcome {
        guard h.scheme == .http else { return Outcome(ok: false, message: "HTTPS probes are not supported by podd") }
        guard let port = resolvePort(h.port, container) else {
            return Outcome(ok: false, message: "port \(h.port) is not a port of the container")
        }
        let host = h.host ?? "127.0.0.1"
        let path = h.path.isEmpty ? "/" : h.path
        // Header names and values come from a validated manifest; CR and LF are still cut so
        // nothing can inject lines into the request.
        func clean(_ s: String) -> String { s.filter { $0 != "\r" && $0 != "\n" } }
        var hostHeader = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        var extra = ""
        for header in h.httpHeaders {
            if header.name.lowercased() == "host" { hostHeader = clean(header.value); continue }
            extra += "\(clean(header.name)): \(clean(header.value))\r\n"
        }
        let url = "http://\(hostHeader)\(path)"
        let (finalHost, finalExtra, finalPath) = (hostHeader, extra, clean(path))
        let netns = self.netns
        let code: Int32 = await blocking {
            let fd = pod_connect_in_netns(netns.fd, host, port, Int32(timeout * 1000))
            guard fd >= 0 else { return -errno }
            defer { close(fd) }
            let status = pod_http_get(fd, finalHost, finalPath, finalExtra, Int32(timeout * 1000))
            return status < 0 ? -errno : status
        }
        if code < 0 { return Outcome(ok: false, message: "Get \"\(url)\": \(String(cString: strerror(-code)))") }
        if (200..<400).contains(code) { return Outcome(ok: true, message: "") }
        return Outcome(ok: false, message: "HTTP probe failed with statuscode: \(code)")
    }

    private func tcp(host: String, port: Int32, timeout: Double) async -> Outcome {
        let netns = self.netns
        let err: Int32 = await blocking {
            let fd = pod_connect_in_netns(netns.fd, host, port, Int32(timeout * 1000))
            guard fd >= 0 else { return errno }
            close(fd)
            return 0
        }
        if err == 0 { return Outcome(ok: true, message: "") }
        return Outcome(ok: false, message: "dial tcp \(host):\(port): \(String(cString: strerror(err)))")
    }

    /// Blocking socket work on its own thread: it waits on the network, and the thread briefly
    /// enters the pod's network namespace, which no pool thread should ever do.
    private func blocking(_ body: @escaping @Sendable () -> Int32) async -> Int32 {
        await withCheckedContinuation { c in DetachedThread.run { c.resume(returning: body()) } }
    }
}

/// An open handle on a pod's network namespace, taken from its monitor when the sandbox
/// starts (valid as long as the namespace lives, whatever happens to pids).
final class NetworkNamespace: Sendable {
    let fd: Int32

    init?(monitorPID: pid_t) {
        let fd = open("/proc/\(monitorPID)/ns/net", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        self.fd = fd
    }

    deinit { close(fd) }
}
