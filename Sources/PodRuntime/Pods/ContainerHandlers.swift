import CPodShim
import Glibc
import PodModel
import PodOS

/// Runs probe and lifecycle-hook handlers against a container, as kubelet does: httpGet,
/// tcpSocket and grpc connect from inside the pod's network namespace to the pod's IP unless
/// the handler names a host (httpGet then speaks HTTP through DaemonHTTPClient, grpc HTTP/2
/// through GRPCHealthClient), exec runs a command in the container, sleep waits.
struct ContainerHandlers: Sendable {
    /// The pod's network namespace (an fd on /proc/MONITOR/ns/net).
    let netns: NetworkNamespace
    /// The pod's IP (the host's for a hostNetwork pod); nil for a loopback-only pod.
    let podIP: String?
    /// Runs a command in the container: its exit code and output, nil on timeout.
    let exec: @Sendable (_ command: [String], _ timeout: Double) async -> (exitCode: Int32, output: String)?

    struct Outcome: Sendable {
        var ok: Bool
        var message: String
    }

    /// Where a handler without a host connects: the pod's IP, as kubelet's prober and hook
    /// runner do, so a server that listens only on 127.0.0.1 fails here as on a cluster. A
    /// loopback-only pod (`network: none`) has no IP, and its loopback is all it has.
    var defaultHost: String { podIP ?? "127.0.0.1" }

    func probe(_ handler: ProbeHandler, container: Container, timeout: Double) async -> Outcome {
        switch handler {
        case let .exec(command): return await runExec(command, timeout: timeout)
        case let .httpGet(h): return await httpGet(h, container: container, timeout: timeout, userAgent: Self.probeUserAgent)
        case let .tcpSocket(t):
            guard let port = resolvePort(t.port, container) else {
                return Outcome(ok: false, message: "port \(t.port) is not a port of the container")
            }
            return await tcp(host: t.host ?? defaultHost, port: port, timeout: timeout)
        case let .grpc(g): return await grpc(g, timeout: timeout)
        }
    }

    func hook(_ handler: LifecycleHandler, container: Container, timeout: Double) async -> Outcome {
        switch handler {
        case let .exec(command): return await runExec(command, timeout: timeout)
        case let .httpGet(h): return await httpGet(h, container: container, timeout: timeout, userAgent: Self.hookUserAgent)
        case let .sleep(seconds):
            // Cancelled: the hook's wait is over early, which is what cancellation asks.
            try? await Task.sleep(for: .seconds(min(Double(seconds), timeout)))
            return Outcome(ok: true, message: "")
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

    /// kubelet's User-Agent for probes and for lifecycle hooks (the Kubernetes version podd
    /// follows).
    static let probeUserAgent = "kube-probe/1.32"
    static let hookUserAgent = "kube-lifecycle/1.32"

    /// An httpGet as kubelet's prober does it (pkg/probe/http): `Host` from the probe's host
    /// and port unless a Host header is given, the probe's headers, its User-Agent and
    /// `Accept: */*` unless set; 2xx and 3xx succeed; a redirect to the same host (any port)
    /// is followed, at most 10 times, one to another host is not (kubelet then reports a
    /// warning, which counts as success); at most 10 KiB of body is read; the timeout covers
    /// every hop. Each connection is made inside the pod's network namespace. `scheme: HTTPS`
    /// speaks TLS without checking the server's certificate, as kubelet's probes and hooks
    /// do (`InsecureSkipVerify`), and a redirect may move between http and https.
    private func httpGet(_ h: HTTPGetAction, container: Container, timeout: Double, userAgent: String) async -> Outcome {
        guard let port = resolvePort(h.port, container) else {
            return Outcome(ok: false, message: "port \(h.port) is not a port of the container")
        }
        // Header names and values come from a validated manifest; CR and LF are still cut so
        // nothing can inject lines into the request.
        func clean(_ s: String) -> String { s.filter { $0 != "\r" && $0 != "\n" } }
        var target = ProbeTarget(host: h.host ?? defaultHost, port: port, path: clean(h.path.isEmpty ? "/" : h.path),
                                 secure: h.scheme == .https)
        var hostOverride: String?
        var headers: [(name: String, value: String)] = []
        for header in h.httpHeaders {
            if header.name.lowercased() == "host" { hostOverride = clean(header.value); continue }
            headers.append((clean(header.name), clean(header.value)))
        }
        if !headers.contains(where: { $0.name.lowercased() == "user-agent" }) { headers.append(("User-Agent", userAgent)) }
        if !headers.contains(where: { $0.name.lowercased() == "accept" }) { headers.append(("Accept", "*/*")) }
        let deadline = RuntimeClock.monotonic() + timeout
        var hops = 0
        while true {
            let remaining = deadline - RuntimeClock.monotonic()
            guard remaining > 0 else { return Outcome(ok: false, message: "Get \"\(target.url)\": context deadline exceeded") }
            let request = DaemonHTTPClient.Request(path: target.path, host: hostOverride ?? target.hostHeader, headers: headers)
            let response: DaemonHTTPClient.Response
            do {
                let fd = try await connectInPod(host: target.host, port: target.port, timeout: remaining)
                response = try await DaemonHTTPClient.get(request, connectedSocket: fd, timeout: remaining,
                                                          tls: target.secure ? .withoutVerification(serverName: target.serverName) : nil)
            } catch {
                return Outcome(ok: false, message: "Get \"\(target.url)\": \(error)")
            }
            if (300..<400).contains(response.status), let location = response.header("Location") {
                switch target.redirect(to: location) {
                case let .follow(next)?:
                    hops += 1
                    guard hops <= 10 else { return Outcome(ok: false, message: "Get \"\(next.url)\": stopped after 10 redirects") }
                    target = next
                    continue
                case let .unsupportedScheme(scheme, url)?:
                    return Outcome(ok: false, message: "Get \"\(url)\": unsupported protocol scheme \"\(scheme)\"")
                case nil:
                    // To another host: not followed; kubelet's "Probe terminated redirects"
                    // warning, which a probe counts as success.
                    return Outcome(ok: true, message: "Probe terminated redirects, Response body: \(String(decoding: response.body, as: UTF8.self))")
                }
            }
            if (200..<400).contains(response.status) { return Outcome(ok: true, message: "") }
            return Outcome(ok: false, message: "HTTP probe failed with statuscode: \(response.status)")
        }
    }

    private func tcp(host: String, port: Int32, timeout: Double) async -> Outcome {
        do {
            close(try await connectInPod(host: host, port: port, timeout: timeout))
            return Outcome(ok: true, message: "")
        } catch {
            return Outcome(ok: false, message: "\(error)")
        }
    }

    /// A gRPC health check as kubelet's gRPC prober makes it, with its messages: the dial
    /// blocks (retrying a refused connection with gRPC's backoff, 1 s growing by 1.6) until
    /// connected or the timeout; then `grpc.health.v1.Health/Check` for the probe's service
    /// (empty: the server as a whole) succeeds only on `SERVING`.
    private func grpc(_ g: GRPCAction, timeout: Double) async -> Outcome {
        // kubelet's gRPC prober has no host field: always the pod's IP.
        let host = defaultHost
        let address = ProbeTarget.joinHostPort(host, g.port)
        let within = goDuration(timeout)
        let deadline = RuntimeClock.monotonic() + timeout
        var backoff = 1.0
        while true {
            let remaining = deadline - RuntimeClock.monotonic()
            guard remaining > 0 else {
                return Outcome(ok: false, message: "timeout: failed to connect service \"\(address)\" within \(within): context deadline exceeded")
            }
            let outcome: GRPCHealthClient.Outcome
            do {
                let fd = try await connectInPod(host: host, port: g.port, timeout: remaining)
                outcome = await GRPCHealthClient.check(service: g.service, authority: address, userAgent: Self.probeUserAgent,
                                                       connectedSocket: fd, timeout: deadline - RuntimeClock.monotonic())
            } catch {
                outcome = .notConnected("\(error)")
            }
            switch outcome {
            case .notConnected:
                // Dial again after gRPC's backoff; a cancelled wait (the pod stops) ends the
                // probe, whose result no longer matters.
                let wait = min(backoff, max(deadline - RuntimeClock.monotonic(), 0))
                do { try await Task.sleep(for: .seconds(wait)) } catch { return Outcome(ok: false, message: "the probe was cancelled") }
                backoff *= 1.6
            case .timedOut, .failed(code: .deadlineExceeded, message: _):
                return Outcome(ok: false, message: "timeout: health rpc did not complete within \(within)")
            case let .failed(code: .unimplemented, message: message):
                return Outcome(ok: false, message: "error: this server does not implement the grpc health protocol (grpc.health.v1.Health): \(message)")
            case let .failed(code: code, message: message):
                return Outcome(ok: false, message: "error: health rpc probe failed: rpc error: code = \(code) desc = \(message)")
            case let .answered(status) where status == GRPCHealthClient.serving:
                return Outcome(ok: true, message: "service healthy")
            case let .answered(status):
                return Outcome(ok: false, message: "service unhealthy (responded with \"\(GRPCHealthClient.servingStatusName(status))\")")
            }
        }
    }

    /// A TCP connection made inside the pod's network namespace, on a thread of its own: it
    /// waits on the network, and the thread briefly enters the namespace, which no thread of
    /// the cooperative pool should ever do.
    private func connectInPod(host: String, port: Int32, timeout: Double) async throws(ProbeDialError) -> Int32 {
        let netns = self.netns
        let result: Result<Int32, ProbeDialError>
        do {
            result = try await DetachedThread.value { () -> Result<Int32, ProbeDialError> in
                // A name is looked up by the host's resolver and its addresses tried in turn
                // until one connects, as kubelet's dial does; the first failure is reported.
                let addresses = Self.addresses(of: host)
                guard !addresses.isEmpty else { return .failure(.unknownHost(host)) }
                let deadline = RuntimeClock.monotonic() + timeout
                var firstFailure: ProbeDialError?
                for ip in addresses {
                    let remaining = max(deadline - RuntimeClock.monotonic(), 0.001)
                    let fd = pod_connect_in_netns(netns.fd, ip, port, Int32(remaining * 1000))
                    if fd >= 0 { return .success(fd) }
                    if firstFailure == nil { firstFailure = .connect(address: ProbeTarget.joinHostPort(ip, port), code: errno) }
                    if RuntimeClock.monotonic() >= deadline { break }
                }
                return .failure(firstFailure!)
            }
        } catch {
            throw .connect(address: ProbeTarget.joinHostPort(host, port), code: error.code)
        }
        return try result.get()
    }

    /// `host` itself when it is an address, else the addresses the resolver gives it, in its
    /// order (getaddrinfo: blocks, so only on a thread of its own); none when it has none.
    private static func addresses(of host: String) -> [String] {
        if ProbeTarget.isAddress(host) { return [host] }
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &list) == 0 else { return [] }
        defer { freeaddrinfo(list) }
        var found: [String] = []
        var cursor = list
        while let entry = cursor?.pointee {
            cursor = entry.ai_next
            var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            switch entry.ai_family {
            case AF_INET:
                var a = entry.ai_addr.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
                guard inet_ntop(AF_INET, &a, &text, socklen_t(text.count)) != nil else { continue }
            case AF_INET6:
                var a = entry.ai_addr.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_addr }
                guard inet_ntop(AF_INET6, &a, &text, socklen_t(text.count)) != nil else { continue }
            default:
                continue
            }
            let address = String(cString: text)
            if !found.contains(address) { found.append(address) }
        }
        return found
    }
}

/// A connection that failed, worded as Go's net.Dial words it in kubelet's probe messages:
/// `dial tcp 10.88.0.5:8080: connect: connection refused`, `dial tcp ...: i/o timeout`
/// (the address is the one dialled, a name's looked-up address).
enum ProbeDialError: Error, CustomStringConvertible {
    case connect(address: String, code: Int32)
    /// A name the resolver does not know.
    case unknownHost(String)

    var description: String {
        switch self {
        case let .unknownHost(name): return "dial tcp: lookup \(name): no such host"
        case let .connect(address, code) where code == ETIMEDOUT: return "dial tcp \(address): i/o timeout"
        case let .connect(address, code): return "dial tcp \(address): connect: \(GoErrorText.errno(code))"
        }
    }
}

/// Where a probe's request goes, and where a redirect sends it next (kubelet's
/// RedirectChecker with followNonLocalRedirects false: only to the same host name).
struct ProbeTarget: Sendable, Equatable {
    var host: String
    var port: Int32
    var path: String
    /// https: TLS.
    var secure = false

    var hostHeader: String { Self.joinHostPort(host, port) }

    /// Go's net.JoinHostPort: an IPv6 address in brackets.
    static func joinHostPort(_ host: String, _ port: Int32) -> String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
    var url: String { "\(secure ? "https" : "http")://\(hostHeader)\(path)" }
    /// The TLS server name (SNI): the host, unless it is an address, as Go's client sends it.
    var serverName: String? { Self.isAddress(host) ? nil : host }

    /// Whether `host` is an IPv4 or IPv6 address rather than a name.
    static func isAddress(_ host: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }

    enum Redirect: Equatable {
        case follow(ProbeTarget)
        /// To a scheme other than http and https: Go's client stops there.
        case unsupportedScheme(String, url: String)
    }

    /// The next target for a `Location`, or nil when it leaves this host.
    func redirect(to location: String) -> Redirect? {
        if location.hasPrefix("//") { return redirect(to: (secure ? "https:" : "http:") + location) }
        if let schemeEnd = location.range(of: "://") {
            let scheme = location[..<schemeEnd.lowerBound].lowercased()
            let rest = location[schemeEnd.upperBound...]
            let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
            var path = String(rest.dropFirst(authority.count))
            if path.isEmpty || path.hasPrefix("?") { path = "/" + path }
            var name = String(authority)
            var port: Int32 = scheme == "https" ? 443 : 80
            if name.hasPrefix("["), let close = name.firstIndex(of: "]") {
                let after = name[name.index(after: close)...]
                if after.hasPrefix(":"), let p = Int32(after.dropFirst()) { port = p }
                name = String(name[name.index(after: name.startIndex)..<close])
            } else if let colon = name.lastIndex(of: ":"), let p = Int32(name[name.index(after: colon)...]) {
                port = p
                name = String(name[..<colon])
            }
            guard name.lowercased() == host.lowercased() else { return nil }
            guard scheme == "http" || scheme == "https" else { return .unsupportedScheme(String(scheme), url: location) }
            return .follow(ProbeTarget(host: host, port: port, path: path, secure: scheme == "https"))
        }
        if location.hasPrefix("/") { return .follow(ProbeTarget(host: host, port: port, path: location, secure: secure)) }
        // Relative to the current path's directory.
        let directory = path.split(separator: "?", maxSplits: 1).first.map(String.init) ?? "/"
        let base = directory.hasSuffix("/") ? directory : String(directory[...(directory.lastIndex(of: "/") ?? directory.startIndex)])
        return .follow(ProbeTarget(host: host, port: port, path: (base.hasPrefix("/") ? base : "/" + base) + location, secure: secure))
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
