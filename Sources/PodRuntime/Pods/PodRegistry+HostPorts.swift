import PodModel

/// hostPorts at admission: one host port (per protocol and host address) belongs to one pod,
/// so a second pod asking for it is refused, naming the pod that holds it (on a cluster the
/// scheduler would place it elsewhere; here there is no elsewhere). A pod replacing itself
/// keeps its own ports.
extension PodRegistry {
    func hostPortConflicts(_ pod: Pod) -> [RuntimeError.Cause] {
        var causes: [RuntimeError.Cause] = []
        let ports = Self.hostPorts(pod)
        guard !ports.isEmpty else { return [] }
        if ctx.network == nil && !pod.spec.hostNetwork {
            return [.init(reason: "FieldValueForbidden",
                          message: "Forbidden: hostPort needs podd's pod network, and this podd runs with `network: none` (set network: in podd's config, or use hostNetwork: true)",
                          field: ports[0].field)]
        }
        let me = Key(pod.metadata.namespace, pod.metadata.name)
        // Published pods, and those a create admitted and has not published yet (it awaits
        // their sandbox): the check and the claim are one step of this actor. A pod that has
        // ended holds no port (its network is released, as the scheduler forgets terminal pods).
        for (key, other) in Array(snapshots) + creating.filter({ snapshots[$0.key] == nil })
        where key != me && !other.status.phase.isTerminal {
            let taken = Self.hostPorts(other)
            for port in ports {
                guard taken.contains(where: { $0.overlaps(port) }) else { continue }
                causes.append(.init(reason: "FieldValueInvalid",
                                    message: "Invalid value: \(port.hostPort): hostPort \(port.hostPort)/\(port.proto)\(port.hostIP.isEmpty ? "" : " on \(port.hostIP)") is already allocated to pod \(key.namespace)/\(key.name)",
                                    field: port.field))
            }
        }
        return causes
    }

    struct HostPortClaim {
        var hostPort: Int32
        var proto: String
        var hostIP: String
        var field: String

        /// Same port and protocol, and the same address or either on every address.
        func overlaps(_ other: HostPortClaim) -> Bool {
            hostPort == other.hostPort && proto == other.proto
                && (hostIP == other.hostIP || hostIP.isEmpty || other.hostIP.isEmpty || hostIP == "0.0.0.0" || other.hostIP == "0.0.0.0")
        }
    }

    static func hostPorts(_ pod: Pod) -> [HostPortClaim] {
        var claims: [HostPortClaim] = []
        for (label, list) in [("initContainers", pod.spec.initContainers), ("containers", pod.spec.containers)] {
            for (ci, c) in list.enumerated() {
                for (pi, port) in c.ports.enumerated() {
                    guard let hostPort = port.hostPort else { continue }
                    claims.append(HostPortClaim(hostPort: hostPort, proto: port.protocol.rawValue, hostIP: port.hostIP ?? "",
                                                field: "spec.\(label)[\(ci)].ports[\(pi)].hostPort"))
                }
            }
        }
        return claims
    }
}
