import ArgumentParser
import Glibc

extension Podctl {
    /// `podctl port-forward POD [LOCAL:]REMOTE...`: kubectl's port-forward. Each local
    /// connection is carried to the port inside the pod (127.0.0.1:REMOTE in the pod's own
    /// network namespace): podd hands podctl the connected socket and podctl splices
    /// (docs/portforward-handoff.md), or else over a `v4.channel.k8s.io` WebSocket of its own.
    public struct PortForward: ParsableCommand {
        public static let configuration = CommandConfiguration(
            commandName: "port-forward",
            abstract: "Forward one or more local ports to a pod.",
            discussion: """
                Listens on each LOCAL port (on localhost, or --address) and forwards every \
                connection to REMOTE inside the pod, until Ctrl-C. A REMOTE alone uses the same \
                port locally; :REMOTE picks a free local port.

                Examples:
                  podctl port-forward web 8080:80
                  podctl port-forward pod/web :80 9090 --address 0.0.0.0
                """
        )

        @Argument(help: ArgumentHelp("The pod (NAME or pod/NAME).", valueName: "pod"))
        var pod: String

        @Argument(help: ArgumentHelp("The ports, [LOCAL:]REMOTE.", valueName: "ports"))
        var ports: [String] = []

        @Option(name: .customLong("address"), help: ArgumentHelp(
            "Addresses to listen on, comma-separated (localhost: 127.0.0.1 and ::1).", valueName: "address"))
        var address: [String] = []

        @OptionGroup var namespaceOptions: NamespaceOptions
        @OptionGroup var connection: ConnectionOptions

        public init() {}

        public func run() throws {
            let name = try podName(pod, verb: "port-forward")
            let mappings = try ports.map(PortMapping.init)
            guard !mappings.isEmpty else { throw PodctlError("TYPE/NAME and list of ports are required for port-forward") }
            let addresses = try ListenAddress.parse(address.isEmpty ? ["localhost"] : address)
            let namespace = namespaceOptions.namespaceOrDefault
            let client = connection.client
            // kubectl checks the pod before it listens.
            let phase = try client.json("GET", PoddClient.podPath(namespace: namespace, name: name))["status"]["phase"].string
            guard phase == "Running" else {
                throw PodctlError("unable to forward port because pod is not running. Current status=\(phase)")
            }
            var listeners: [PortListener] = []
            for mapping in mappings {
                var local = mapping.local
                var bound = 0
                var failures: [String] = []
                for address in addresses {
                    do {
                        let listener = try PortListener(address: address, port: local, remote: mapping.remote)
                        local = listener.port
                        listeners.append(listener)
                        bound += 1
                        Output.write("Forwarding from \(address.display(port: listener.port)) -> \(mapping.remote)\n")
                    } catch {
                        // localhost's ::1 may be missing (IPv6 off): kubectl goes on with 127.0.0.1.
                        if !address.optional { failures.append(String(error.line.dropFirst("error: ".count))) }
                    }
                }
                if bound == 0 || !failures.isEmpty {
                    throw PodctlError("unable to listen on port \(mapping.local): \(failures.joined(separator: "; "))")
                }
            }
            let target = ForwardTarget(socketPath: client.socketPath, path: PoddClient.podPath(namespace: namespace, name: name) + "/portforward")
            try PortListener.serve(listeners, target: target)
        }
    }
}

/// One `[LOCAL:]REMOTE` argument.
struct PortMapping: Equatable {
    var local: UInt16
    var remote: UInt16

    init(local: UInt16, remote: UInt16) {
        self.local = local
        self.remote = remote
    }

    init(_ text: String) throws(PodctlError) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        func port(_ s: Substring, allowZero: Bool) throws(PodctlError) -> UInt16 {
            guard let n = UInt16(s), n > 0 || allowZero else {
                throw PodctlError("Error parsing port \"\(text)\": a port must be a number from 1 to 65535")
            }
            return n
        }
        switch parts.count {
        case 1:
            remote = try port(parts[0], allowZero: false)
            local = remote
        case 2:
            remote = try port(parts[1], allowZero: false)
            local = parts[0].isEmpty ? 0 : try port(parts[0], allowZero: true)
        default:
            throw PodctlError("invalid port format \"\(text)\": expected [LOCAL:]REMOTE")
        }
    }
}

/// An address to listen on: `localhost` is 127.0.0.1 and (when the machine has it) ::1.
struct ListenAddress: Equatable {
    var text: String
    var ipv6: Bool
    /// A failure to listen here is not an error (localhost's ::1).
    var optional: Bool

    static func parse(_ values: [String]) throws(PodctlError) -> [ListenAddress] {
        var out: [ListenAddress] = []
        for value in values.flatMap({ $0.split(separator: ",").map(String.init) }) {
            if value == "localhost" {
                out += [ListenAddress(text: "127.0.0.1", ipv6: false, optional: false), ListenAddress(text: "::1", ipv6: true, optional: true)]
                continue
            }
            var v4 = in_addr()
            var v6 = in6_addr()
            if inet_pton(AF_INET, value, &v4) == 1 {
                out.append(ListenAddress(text: value, ipv6: false, optional: false))
            } else if inet_pton(AF_INET6, value, &v6) == 1 {
                out.append(ListenAddress(text: value, ipv6: true, optional: false))
            } else {
                throw PodctlError("\(value) is not a valid IP")
            }
        }
        return out
    }

    /// As kubectl prints it: `127.0.0.1:8080`, `[::1]:8080`.
    func display(port: UInt16) -> String { ipv6 ? "[\(text)]:\(port)" : "\(text):\(port)" }
}

/// Where forwarded connections go: podd's socket and the pod's portforward path.
struct ForwardTarget: Sendable {
    var socketPath: String
    var path: String
}
