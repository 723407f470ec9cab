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
        // splice(2) has no MSG_NOSIGNAL: a client gone mid-answer must end its connection
        // (EPIPE), not the whole forward.
        signal(SIGPIPE, SIG_IGN)
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

/// One local connection carried to the pod: the pod's own socket handed over by podd and
/// spliced (`PortForwardHandoff`, `SpliceRelay`), or else a WebSocket to podd's portforward
/// with `?ports=REMOTE`; channel 0 carries the data, channel 1 podd's error, and each channel's
/// first message is the port. The local end of file sends the WebSocket's Close (podd then
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
        // podd on this machine hands over the pod's socket: podctl splices, podd copies nothing.
        if PortForwardHandoff.enabled {
            switch PortForwardHandoff.request(target, port: remote) {
            case let .connected(pod):
                defer { close(pod) }
                if SpliceRelay(local: local, pod: pod).run() { return }
                // No pipes (descriptors exhausted): this connection goes through the WebSocket.
            case let .refused(message):
                Output.error("error: an error occurred forwarding \(localPort) -> \(remote): \(message)")
                return
            case .unavailable:
                break
            }
        }
        do {
            let (socket, received) = try Self.open(target, port: remote)
            try relay(socket, received: received)
        } catch let error as APIStatusError {
            Output.error("error: \(error.description)")
        } catch let error as PodctlError {
            Output.error(error.line)
        } catch {
            Output.error("error: \(error)")
        }
    }

    /// The WebSocket handshake (as `WebSocket.connect`), keeping the socket and the bytes
    /// that came with the answer: the relay reads frames in place, without a copy per frame.
    private static func open(_ target: ForwardTarget, port: UInt16) throws -> (UnixSocket, [UInt8]) {
        let connection = try HTTPConnection(socketPath: target.socketPath)
        let key = Base64.encode((0..<16).map { _ in UInt8.random(in: 0...255) })
        let headers = [("Upgrade", "websocket"), ("Sec-WebSocket-Version", "13"), ("Sec-WebSocket-Key", key),
                       ("Sec-WebSocket-Protocol", "v4.channel.k8s.io")]
        try connection.send(method: "GET", target: target.path + PoddClient.queryString([("ports", String(port))]),
                            headers: headers, body: .none, connection: "Upgrade")
        let head = try connection.readHead()
        guard head.status == 101 else {
            let body = (try? connection.readWholeBody(of: head, method: "GET", limit: 1024 * 1024)) ?? []
            throw APIStatusError(code: head.status, body: body)
        }
        let expected = Base64.encode(SHA1.digest(Array((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").utf8)))
        guard head.header("Sec-WebSocket-Accept")?.trimmingSpaces == expected else {
            throw PodctlError("podd's WebSocket handshake for \(target.path) carries a wrong Sec-WebSocket-Accept")
        }
        return connection.takeOver()
    }

    private func relay(_ socket: UnixSocket, received: [UInt8]) throws(PodctlError) {
        var seenPrefix = [false, false]
        var errorText: [UInt8] = []
        var readingLocal = true
        var sentClose = false
        var output = [UInt8](repeating: 0, count: 128 * 1024)
        let frames = FrameReader(initial: received)
        defer {
            if !errorText.isEmpty {
                Output.error("error: an error occurred forwarding \(localPort) -> \(remote): \(String(decoding: errorText, as: UTF8.self))")
            }
        }
        func lost(_ code: Int32) -> PodctlError {
            PodctlError("lost the connection to podd at \(target.socketPath): \(PodCtlKit.errorText(code))")
        }
        /// Handles the frames read so far; false once podd has closed the session.
        func drain() throws(PodctlError) -> Bool {
            while let frame = frames.next() {
                switch frame.opcode {
                case 0x1, 0x2:
                    guard frame.payload.count > 0 else { continue }
                    let channel = frame.payload[0]
                    guard channel < 2 else { continue }
                    if !seenPrefix[Int(channel)] {
                        // The port, little-endian, before anything else on the channel.
                        seenPrefix[Int(channel)] = true
                    } else if channel == 0 {
                        Self.writeAll(local, UnsafeRawBufferPointer(rebasing: frame.payload.dropFirst()))
                    } else {
                        errorText += frame.payload.dropFirst()
                    }
                case 0x8:
                    if !sentClose { try? MaskedFrame.sendControl(0x8, [0x03, 0xE8], on: socket) }
                    return false
                case 0x9:
                    do { try MaskedFrame.sendControl(0xA, Array(frame.payload), on: socket) } catch { throw lost(error.code) }
                default:
                    continue
                }
            }
            return true
        }
        guard try drain() else { return }
        while true {
            var fds = [pollfd(fd: socket.fd, events: Int16(POLLIN), revents: 0)]
            if readingLocal { fds.append(pollfd(fd: local, events: Int16(POLLIN), revents: 0)) }
            let ready = poll(&fds, nfds_t(fds.count), -1)
            if ready < 0 {
                if errno == EINTR { continue }
                throw PodctlError("poll failed: \(PodCtlKit.errorText(errno))")
            }
            if fds[0].revents != 0 {
                let count = frames.receive(from: socket.fd)
                if count < 0 && (errno == EINTR || errno == EAGAIN) { continue }
                if count <= 0 { return }
                guard try drain() else { return }
            }
            if readingLocal, fds.count > 1, fds[1].revents != 0 {
                // Channel 0, then the data, in one masked frame built in place.
                let count = output.withUnsafeMutableBytes { raw -> Int in
                    guard let base = raw.baseAddress else { return -1 }
                    return read(local, base + MaskedFrame.headroom + 1, raw.count - MaskedFrame.headroom - 1)
                }
                if count < 0 && errno == EINTR { continue }
                if count <= 0 {
                    // The local end of file: podd half-closes the pod's socket and sends what
                    // the pod still answers, then its own Close.
                    readingLocal = false
                    sentClose = true
                    do { try MaskedFrame.sendControl(0x8, [0x03, 0xE8], on: socket) } catch { throw lost(error.code) }
                    continue
                }
                do { try MaskedFrame.send(&output, channel: 0, count: count, on: socket) } catch { throw lost(error.code) }
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

    /// Sends a small control frame (Close, Pong), masked.
    static func sendControl(_ opcode: UInt8, _ payload: [UInt8], on socket: UnixSocket) throws(UnixSocket.IOError) {
        let mask = (0..<4).map { _ in UInt8.random(in: 0...255) }
        var frame: [UInt8] = [0x80 | opcode, 0x80 | UInt8(min(payload.count, 125))] + mask
        for (i, byte) in payload.prefix(125).enumerated() { frame.append(byte ^ mask[i & 3]) }
        try socket.send(frame)
    }

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

/// podd's WebSocket frames read in place from one buffer: a payload is handed out as a view
/// of the buffer (valid until the next `receive`), so a 100 MB transfer costs no copy per
/// frame. Frames from a server are not masked; a masked one is unmasked in place.
final class FrameReader {
    private var buffer: UnsafeMutableRawBufferPointer
    private var start = 0
    private var end = 0

    struct Frame {
        var opcode: UInt8
        var payload: UnsafeRawBufferPointer
    }

    init(initial: [UInt8]) {
        buffer = .allocate(byteCount: max(512 * 1024, initial.count * 2), alignment: 8)
        initial.withUnsafeBytes { raw in
            if let base = raw.baseAddress, let to = buffer.baseAddress { to.copyMemory(from: base, byteCount: raw.count) }
        }
        end = initial.count
    }

    deinit { buffer.deallocate() }

    /// recv(2) into the free room (made by moving what is left of a frame to the front, or
    /// by growing the buffer for a frame larger than it): its result.
    func receive(from fd: Int32) -> Int {
        guard let base = buffer.baseAddress else { return -1 }
        if start > 0 {
            memmove(base, base + start, end - start)
            end -= start
            start = 0
        }
        if end == buffer.count {
            let bigger = UnsafeMutableRawBufferPointer.allocate(byteCount: buffer.count * 2, alignment: 8)
            if let to = bigger.baseAddress { to.copyMemory(from: base, byteCount: end) }
            buffer.deallocate()
            buffer = bigger
        }
        guard let room = buffer.baseAddress else { return -1 }
        let count = recv(fd, room + end, buffer.count - end, 0)
        if count > 0 { end += count }
        return count
    }

    /// The next whole frame among the bytes received, or nil.
    func next() -> Frame? {
        guard let base = buffer.baseAddress, end - start >= 2 else { return nil }
        let at = base + start
        let first = at.load(as: UInt8.self)
        let second = at.load(fromByteOffset: 1, as: UInt8.self)
        var header = 2
        var length = Int(second & 0x7F)
        if length == 126 {
            guard end - start >= 4 else { return nil }
            length = Int(UInt16(bigEndian: at.loadUnaligned(fromByteOffset: 2, as: UInt16.self)))
            header = 4
        } else if length == 127 {
            guard end - start >= 10 else { return nil }
            length = Int(truncatingIfNeeded: UInt64(bigEndian: at.loadUnaligned(fromByteOffset: 2, as: UInt64.self)) & 0x7FFF_FFFF)
            header = 10
        }
        let masked = second & 0x80 != 0
        if masked { header += 4 }
        guard end - start >= header + length else { return nil }
        let payload = at + header
        if masked {
            for i in 0..<length {
                let key = at.load(fromByteOffset: header - 4 + (i & 3), as: UInt8.self)
                payload.storeBytes(of: payload.load(fromByteOffset: i, as: UInt8.self) ^ key, toByteOffset: i, as: UInt8.self)
            }
        }
        start += header + length
        return Frame(opcode: first & 0x0F, payload: UnsafeRawBufferPointer(start: payload, count: length))
    }
}
