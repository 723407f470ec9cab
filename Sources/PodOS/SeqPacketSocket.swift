import CPodShim
import Glibc

/// A connected SOCK_SEQPACKET socket carrying ControlMessages. Owns its descriptor.
public final class SeqPacketSocket: Sendable {
    public let fd: Int32

    public init(adopting fd: Int32) { self.fd = fd }

    deinit { close(fd) }

    /// A connected pair (close-on-exec). The second end is typically passed to a child.
    public static func pair() throws(OSError) -> (SeqPacketSocket, Int32) {
        var fds: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0 else {
            throw OSError.last("socketpair")
        }
        return (SeqPacketSocket(adopting: fds[0]), fds[1])
    }

    /// Connects to a listening SOCK_SEQPACKET socket at `path`.
    public static func connect(path: String) throws(OSError) -> SeqPacketSocket {
        let fd = socket(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw OSError.last("socket") }
        var addr: sockaddr_un
        do throws(OSError) { addr = try UnixSocketAddress.make(path, stage: "connect(\(path))") } catch {
            close(fd)
            throw error
        }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard rc == 0 else {
            let error = OSError.last("connect(\(path))")
            close(fd)
            throw error
        }
        return SeqPacketSocket(adopting: fd)
    }

    public func send(_ message: ControlMessage, fds: [Int32] = []) throws(OSError) {
        let bytes = message.bytes
        let n = bytes.withUnsafeBytes { raw in
            fds.withUnsafeBufferPointer { pod_send_message(fd, raw.baseAddress, raw.count, $0.baseAddress, Int32($0.count)) }
        }
        guard n == bytes.count else { throw OSError.last("send(\(message.op))") }
    }

    public enum Received: Sendable {
        case message(ControlMessage, fds: [Int32])
        case wouldBlock
        case closed
    }

    /// Reads one message without blocking.
    public func receive() -> Received {
        var buffer = [UInt8](repeating: 0, count: 65536)
        var fds = [Int32](repeating: -1, count: 8)
        var nfds: Int32 = 0
        let n = buffer.withUnsafeMutableBytes { raw in
            fds.withUnsafeMutableBufferPointer { pod_recv_message(fd, raw.baseAddress, raw.count, $0.baseAddress, 8, &nfds) }
        }
        if n < 0 { return errno == EAGAIN || errno == EWOULDBLOCK ? .wouldBlock : .closed }
        if n == 0 { return .closed }
        let passed = Array(fds.prefix(Int(nfds)))
        guard let message = ControlMessage(bytes: buffer.prefix(n)) else {
            return .message(ControlMessage(op: "malformed"), fds: passed)
        }
        return .message(message, fds: passed)
    }
}
