import Glibc
import PodOS
import Synchronization
import Testing
@testable import PodRuntime

/// podd's own HTTP client against a hand-made peer on a socketpair: what it sends, what it
/// reads, and when it gives up.
struct DaemonHTTPClientTests {
    /// A connected pair; the peer answers the first request with `reply` from a thread (after
    /// `delay` seconds) and hands back what it received.
    func serve(reply: [UInt8], delay: Double = 0) throws -> (client: Int32, received: @Sendable () -> String) {
        var fds: [Int32] = [0, 0]
        precondition(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0)
        let server = fds[1]
        let box = ReceivedBox()
        try DetachedThread.start {
            var got: [UInt8] = []
            var buf = [UInt8](repeating: 0, count: 4096)
            while !String(decoding: got, as: UTF8.self).contains("\r\n\r\n") {
                let n = read(server, &buf, buf.count)
                if n <= 0 { break }
                got += buf[0..<n]
            }
            box.set(String(decoding: got, as: UTF8.self))
            if delay > 0 { usleep(UInt32(delay * 1_000_000)) }
            _ = reply.withUnsafeBytes { send(server, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            close(server)
        }
        return (fds[0], { box.wait() })
    }

    @Test func sendsAGetWithHostHeadersAndConnectionClose() async throws {
        let (fd, received) = try serve(reply: Array("HTTP/1.1 204 No Content\r\n\r\n".utf8))
        let request = DaemonHTTPClient.Request(path: "/ready?x=1", host: "10.0.0.1:8080",
                                               headers: [("User-Agent", "kube-probe/1.32"), ("X-Custom", "v")])
        let response = try await DaemonHTTPClient.get(request, connectedSocket: fd, timeout: 5)
        #expect(response.status == 204)
        let lines = received().split(separator: "\r\n").map(String.init)
        #expect(lines.first == "GET /ready?x=1 HTTP/1.1")
        #expect(lines.contains("Host: 10.0.0.1:8080"))
        #expect(lines.contains("User-Agent: kube-probe/1.32"))
        #expect(lines.contains("X-Custom: v"))
        #expect(lines.contains("Connection: close"))
    }

    @Test func readsAtMostTheBodyLimit() async throws {
        let body = [UInt8](repeating: UInt8(ascii: "a"), count: 50_000)
        let (fd, _) = try serve(reply: Array("HTTP/1.1 200 OK\r\nContent-Length: 50000\r\n\r\n".utf8) + body)
        let response = try await DaemonHTTPClient.get(.init(path: "/", host: "h"), connectedSocket: fd, timeout: 5)
        #expect(response.status == 200)
        #expect(response.body.count == DaemonHTTPClient.probeBodyLimit && response.truncated)
    }

    @Test func aBodyEndedByCloseIsComplete() async throws {
        let (fd, _) = try serve(reply: Array("HTTP/1.1 500 Oops\r\n\r\nbroken".utf8))
        let response = try await DaemonHTTPClient.get(.init(path: "/", host: "h"), connectedSocket: fd, timeout: 5)
        #expect(response.status == 500 && response.body == Array("broken".utf8) && !response.truncated)
    }

    @Test func givesUpAtTheTimeout() async throws {
        let (fd, _) = try serve(reply: Array("HTTP/1.1 200 OK\r\n\r\n".utf8), delay: 2)
        await #expect(throws: DaemonHTTPClient.ClientError.self) {
            _ = try await DaemonHTTPClient.get(.init(path: "/", host: "h"), connectedSocket: fd, timeout: 0.2)
        }
    }

    @Test func aPeerThatClosesWithoutAnswerIsAnError() async throws {
        let (fd, _) = try serve(reply: [])
        await #expect(throws: DaemonHTTPClient.ClientError.self) {
            _ = try await DaemonHTTPClient.get(.init(path: "/", host: "h"), connectedSocket: fd, timeout: 5)
        }
    }

    @Test func noSuchUnixSocketIsAnError() async {
        await #expect(throws: DaemonHTTPClient.ClientError.self) {
            _ = try await DaemonHTTPClient.get(.init(path: "/healthz", host: "podd"), unixSocket: "/nonexistent/podd.sock", timeout: 1)
        }
    }
}

/// Redirects a probe follows: kubelet's RedirectChecker without non-local redirects.
struct ProbeTargetTests {
    let target = ProbeTarget(host: "127.0.0.1", port: 8080, path: "/a/b")

    @Test func sameHostRedirectsAreFollowedWhateverThePort() {
        #expect(target.redirect(to: "/ok") == .follow(ProbeTarget(host: "127.0.0.1", port: 8080, path: "/ok")))
        #expect(target.redirect(to: "http://127.0.0.1:9090/x?y") == .follow(ProbeTarget(host: "127.0.0.1", port: 9090, path: "/x?y")))
        #expect(target.redirect(to: "http://127.0.0.1") == .follow(ProbeTarget(host: "127.0.0.1", port: 80, path: "/")))
        #expect(target.redirect(to: "c") == .follow(ProbeTarget(host: "127.0.0.1", port: 8080, path: "/a/c")))
    }

    @Test func otherHostsAreNotFollowedNorOtherSchemes() {
        #expect(target.redirect(to: "http://192.0.2.1/x") == nil)
        #expect(target.redirect(to: "//example.com/x") == nil)
        #expect(target.redirect(to: "ftp://127.0.0.1/x") == .unsupportedScheme("ftp", url: "ftp://127.0.0.1/x"))
    }

    @Test func redirectsMoveBetweenHTTPAndHTTPS() {
        let secure = ProbeTarget(host: "127.0.0.1", port: 8443, path: "/a/b", secure: true)
        #expect(target.redirect(to: "https://127.0.0.1/x") == .follow(ProbeTarget(host: "127.0.0.1", port: 443, path: "/x", secure: true)))
        #expect(secure.redirect(to: "http://127.0.0.1:8080/y") == .follow(ProbeTarget(host: "127.0.0.1", port: 8080, path: "/y")))
        // Relative and scheme-relative locations keep the scheme.
        #expect(secure.redirect(to: "c") == .follow(ProbeTarget(host: "127.0.0.1", port: 8443, path: "/a/c", secure: true)))
        #expect(secure.redirect(to: "//127.0.0.1/z") == .follow(ProbeTarget(host: "127.0.0.1", port: 443, path: "/z", secure: true)))
        #expect(secure.url == "https://127.0.0.1:8443/a/b")
    }

    @Test func theTLSServerNameIsTheHostUnlessAnAddress() {
        #expect(ProbeTarget(host: "127.0.0.1", port: 1, path: "/").serverName == nil)
        #expect(ProbeTarget(host: "fe80::1", port: 1, path: "/").serverName == nil)
        #expect(ProbeTarget(host: "cafe", port: 1, path: "/").serverName == "cafe")
        #expect(ProbeTarget(host: "web.example", port: 1, path: "/").serverName == "web.example")
    }

    @Test func ipv6HostsKeepTheirBrackets() {
        let v6 = ProbeTarget(host: "::1", port: 80, path: "/")
        #expect(v6.hostHeader == "[::1]:80")
        #expect(v6.redirect(to: "http://[::1]:81/z") == .follow(ProbeTarget(host: "::1", port: 81, path: "/z")))
    }

    @Test func dialErrorsAreWordedAsGosNetDial() {
        #expect("\(ProbeDialError.connect(address: "10.88.0.5:8080", code: ECONNREFUSED))" == "dial tcp 10.88.0.5:8080: connect: connection refused")
        #expect("\(ProbeDialError.connect(address: "[fd00::5]:80", code: EHOSTUNREACH))" == "dial tcp [fd00::5]:80: connect: no route to host")
        #expect("\(ProbeDialError.connect(address: "10.88.0.5:8080", code: ETIMEDOUT))" == "dial tcp 10.88.0.5:8080: i/o timeout")
        #expect("\(ProbeDialError.unknownHost("web.invalid"))" == "dial tcp: lookup web.invalid: no such host")
    }
}

/// What the peer received, once it has.
final class ReceivedBox: Sendable {
    private let value = Mutex<String?>(nil)
    func set(_ v: String) { value.withLock { $0 = v } }
    func wait() -> String {
        while true {
            if let v = value.withLock({ $0 }) { return v }
            usleep(1000)
        }
    }
}
