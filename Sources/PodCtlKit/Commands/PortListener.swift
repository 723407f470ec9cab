import Glibc

/// A listening TCP socket of `podctl port-forward`, and the loop that accepts its
/// connections and carries each to the pod on a thread of its own.
struct PortListener {
    let fd: Int32
    let port: UInt16
    let remote: UInt16

    init(address: ListenAddress, port: UInt16, remote: UInt16) throws(PodctlError) {
        let family = address.ipv6 ? AF_INET6 : AF_INET
        let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw PodctlError("socket: \(errorText(errno))") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var result: Int32
        if address.ipv6 {
            setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &one, socklen_t(MemoryLayout<Int32>.size))
            var a = sockaddr_in6()
            a.sin6_family = sa_family_t(AF_INET6)
            a.sin6_port = port.bigEndian
            inet_pton(AF_INET6, address.text, &a.sin6_addr)
            result = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) } }
        } else {
            var a = sockaddr_in()
            a.sin_family = sa_family_t(AF_INET)
            a.sin_port = port.bigEndian
            inet_pton(AF_INET, address.text, &a.sin_addr)
            result = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        }
        guard result == 0, listen(fd, 128) == 0 else {
            let code = errno
            close(fd)
            throw PodctlError("unable to create listener: Error listen tcp \(address.display(port: port)): bind: \(errorText(code))")
        }
        // The port the kernel chose for `:REMOTE`.
        var bound = sockaddr_in6()
        var length = socklen_t(MemoryLayout<sockaddr_in6>.size)
        _ = withUnsafeMutablePointer(to: &bound) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        // sin_port and sin6_port sit at the same offset.
        self.port = UInt16(bigEndian: bound.sin6_port)
        self.fd = fd
        self.remote = remote
    }

    /// Accepts connections until podctl is interrupted; each is forwarded on its own thread.
    static func serve(_ listeners: [PortListener], target: ForwardTarget) throws(PodctlError) -> Never {
        var fds = listeners.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
        while true {
            let ready = poll(&fds, nfds_t(fds.count), -1)
            if ready < 0 {
                if errno == EINTR { continue }
                throw PodctlError("poll failed: \(errorText(errno))")
            }
            for (index, entry) in fds.enumerated() where entry.revents != 0 {
                let connection = accept(entry.fd, nil, nil)
                guard connection >= 0 else { continue }
                // podctl execs nothing, but no descriptor of its should outlive it in one that does.
                _ = fcntl(connection, F_SETFD, FD_CLOEXEC)
                let listener = listeners[index]
                Output.write("Handling connection for \(listener.port)\n")
                let forward = ForwardedConnection(local: connection, localPort: listener.port, remote: listener.remote, target: target)
                forward.start()
            }
        }
    }
}

/// One local connection carried to the pod: a WebSocket to podd's portforward with
/// `?ports=REMOTE`; channel 0 carries the data, channel 1 podd's error, and each channel's
/// first message is the port. The local end of file closes the WebSocket (podd then
/// half-closes the pod's socket) and the relay goes on until podd closes it.
final class ForwardedConnection: @unchecked Sendable {
    let local: Int32
    let localPort: UInt16
    let remote: UInt16
    let target: ForwardTarget

    init(local: Int32, localPort: UInt16, remote: UInt16, target: ForwardTarget) {
        self.local = local
        self.localPort = localPort
        self.remote = remote
        self.target = target
    }

    /// Runs the relay on a thread of its own (detached: it ends with the connection).
    func start() {
        var thread = pthread_t()
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        let box = Unmanaged.passRetained(self).toOpaque()
        let created = pthread_create(&thread, &attributes, { argument in
            guard let argument else { return nil }
            Unmanaged<ForwardedConnection>.fromOpaque(argument).takeRetainedValue().run()
            return nil
        }, box)
        if created != 0 {
            Unmanaged<ForwardedConnection>.fromOpaque(box).release()
            run()
        }
    }

    func run() {
        defer { close(local) }
        do {
            let socket = try WebSocket.connect(socketPath: target.socketPath, path: target.path,
                                               query: [("ports", String(remote))], protocols: ["v4.channel.k8s.io"])
            try relay(socket)
        } catch let error as APIStatusError {
            Output.error("error: \(error.description)")
        } catch let error as PodctlError {
            Output.error(error.line)
        } catch {
            Output.error("error: \(error)")
        }
    }

    private func relay(_ socket: WebSocket) throws(PodctlError) {
        var seenPrefix = [false, false]
        var errorText: [UInt8] = []
        var readingLocal = true
        var buffer = [UInt8](repeating: 0, count: 128 * 1024)
        defer {
            if !errorText.isEmpty {
                Output.error("error: an error occurred forwarding \(localPort) -> \(remote): \(String(decoding: errorText, as: UTF8.self))")
            }
        }
        func handle(_ message: WebSocket.Message) -> Bool {
            switch message {
            case .close:
                return false
            case let .binary(data), let .text(data):
                guard let channel = data.first, channel < 2 else { return true }
                let index = Int(channel)
                if !seenPrefix[index] {
                    // The port, little-endian, before anything else on the channel.
                    seenPrefix[index] = true
                    return true
                }
                if channel == 0 {
                    data.withUnsafeBytes { Self.writeAll(local, UnsafeRawBufferPointer(rebasing: $0.dropFirst())) }
                } else {
                    errorText += data.dropFirst()
                }
                return true
            }
        }
        while let message = try socket.nextMessage() {
            if !handle(message) { return }
        }
        while true {
            var fds = [pollfd(fd: socket.fd, events: Int16(POLLIN), revents: 0)]
            if readingLocal { fds.append(pollfd(fd: local, events: Int16(POLLIN), revents: 0)) }
            let ready = poll(&fds, nfds_t(fds.count), -1)
            if ready < 0 {
                if errno == EINTR { continue }
                throw PodctlError("poll failed: \(PodCtlKit.errorText(errno))")
            }
            if fds[0].revents != 0 {
                guard try socket.receive() else { return }
                while let message = try socket.nextMessage() {
                    if !handle(message) { return }
                }
            }
            if readingLocal, fds.count > 1, fds[1].revents != 0 {
                // Channel 0, then the data, in one masked frame built in place.
                let count = buffer.withUnsafeMutableBytes { raw -> Int in
                    guard let base = raw.baseAddress else { return -1 }
                    return read(local, base + MaskedFrame.headroom + 1, raw.count - MaskedFrame.headroom - 1)
                }
                if count < 0 && errno == EINTR { continue }
                if count <= 0 {
                    readingLocal = false
                    socket.close()
                    continue
                }
                do {
                    try MaskedFrame.send(&buffer, channel: 0, count: count, on: socket.socket)
                } catch {
                    throw PodctlError("lost the connection to podd at \(target.socketPath): \(PodCtlKit.errorText(error.code))")
                }
            }
        }
    }

    private static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) {
        guard var base = bytes.baseAddress else { return }
        var left = bytes.count
        while left > 0 {
            let n = send(fd, base, left, Int32(MSG_NOSIGNAL))
            if n < 0 {
                if errno == EINTR { continue }
                return
            }
            left -= n
            base += n
        }
    }
}

/// A client's binary WebSocket frame built in the buffer the data was read into: the
/// header goes in the room left before it and the mask is applied eight bytes at a time
/// (the frame-by-frame copy and byte-wise mask of `WebSocket.send` cost the copy its speed).
enum MaskedFrame {
    /// Room before the payload: the longest header (2 + 8 length + 4 mask).
    static let headroom = 14

    /// Sends `buffer[headroom]` (the channel byte, set here) and the `count` bytes after it.
    static func send(_ buffer: inout [UInt8], channel: UInt8, count: Int, on socket: UnixSocket) throws(UnixSocket.IOError) {
        let length = count + 1
        let header: Int
        var failure: UnixSocket.IOError?
        if length < 126 { header = 6 } else if length <= 0xFFFF { header = 8 } else { header = 14 }
        let start = headroom - header
        let mask = UInt32.random(in: 0...UInt32.max)
        buffer.withUnsafeMutableBytes { raw in
            guard let base = raw.baseAddress else { return }
            let frame = base + start
            frame.storeBytes(of: 0x82, as: UInt8.self)
            if length < 126 {
                frame.storeBytes(of: 0x80 | UInt8(length), toByteOffset: 1, as: UInt8.self)
            } else if length <= 0xFFFF {
                frame.storeBytes(of: 0x80 | 126, toByteOffset: 1, as: UInt8.self)
                frame.storeBytes(of: UInt16(length).bigEndian, toByteOffset: 2, as: UInt16.self)
            } else {
                frame.storeBytes(of: 0x80 | 127, toByteOffset: 1, as: UInt8.self)
                frame.storeBytes(of: UInt64(length).bigEndian, toByteOffset: 2, as: UInt64.self)
            }
            let maskBytes = withUnsafeBytes(of: mask) { Array($0) }
            for i in 0..<4 { frame.storeBytes(of: maskBytes[i], toByteOffset: header - 4 + i, as: UInt8.self) }
            let payload = base + headroom
            payload.storeBytes(of: channel, as: UInt8.self)
            // The mask repeats every 4 bytes: as a 64-bit word it covers 8 at a time.
            let wide = UInt64(mask) | UInt64(mask) << 32
            var i = 0
            while i + 8 <= length {
                let word = payload.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                payload.storeBytes(of: word ^ wide, toByteOffset: i, as: UInt64.self)
                i += 8
            }
            while i < length {
                let byte = payload.load(fromByteOffset: i, as: UInt8.self)
                payload.storeBytes(of: byte ^ maskBytes[i & 3], toByteOffset: i, as: UInt8.self)
                i += 1
            }
            do throws(UnixSocket.IOError) {
                try socket.send(UnsafeRawBufferPointer(start: frame, count: header + length))
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
    }
}
