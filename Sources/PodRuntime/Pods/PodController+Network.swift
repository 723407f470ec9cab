import Glibc
import Logging
import PodModel
import PodNetwork
import PodOS

/// A pod's network: its CNI attachment (ADD when its sandbox is made, before any container
/// starts; DEL when the sandbox goes; CHECK when a restarted podd re-adopts it), its
/// addresses for the status, and the files kubelet writes for it (/etc/hosts, /etc/hostname,
/// /etc/resolv.conf), which every container of the pod gets bind-mounted.
extension PodController {
    /// Whether this pod is attached to the CNI network (not hostNetwork, not `network: none`).
    var usesCNI: Bool { context.network != nil && !pod.spec.hostNetwork }

    /// The pod's hostPorts, as portmap's `portMappings`.
    var portMappings: [PortMapping] {
        (pod.spec.initContainers + pod.spec.containers).flatMap(\.ports).compactMap { port in
            guard let hostPort = port.hostPort else { return nil }
            return PortMapping(hostPort: hostPort, containerPort: port.containerPort,
                               protocol: port.protocol == .udp ? "udp" : "tcp",
                               hostIP: port.hostIP.flatMap { $0.isEmpty ? nil : $0 })
        }
    }

    /// CNI ADD for the sandbox just made (monitor `monitorPID`). A saved attachment of an
    /// earlier sandbox of this pod (its monitor died) is torn down first.
    func setUpNetwork(monitorPID: pid_t) throws(CNIError) {
        guard usesCNI, let network = context.network else { return }
        if network.saved(uid: uid) != nil {
            do throws(CNIError) { try network.detach(uid: uid) } catch {
                context.logger.warning("pod \(pod.metadata.namespace)/\(pod.metadata.name): DEL of its earlier sandbox's network failed: \(error)")
            }
        }
        let t0 = RuntimeClock.monotonic()
        let result = try network.attach(uid: uid, namespace: pod.metadata.namespace, name: pod.metadata.name,
                                        monitorPID: monitorPID, portMappings: portMappings)
        podIPs = result.podIPs
        context.logger.debug("pod \(pod.metadata.name): CNI ADD \(Int((RuntimeClock.monotonic() - t0) * 1e6)) us (\(result.pluginTimesText)), IPs \(podIPs)")
        registerName()
    }

    /// DEL of the pod's network now, with what its ADD saved, when its sandbox is lost (its
    /// monitor died) or the pod has ended (Succeeded, Failed: nothing of it runs again). The
    /// pin keeps the namespace, so the veth is found. Whatever follows: a new sandbox ADDs
    /// afresh, and a pod that ends frees its address and hostPorts, as kubelet stops a
    /// terminal pod's sandbox. On the actor, as the ADD is: a DEL beside the next sandbox's
    /// ADD would find that sandbox's pin and saved state. A failed DEL leaves the attachment
    /// saved: the next ADD, the pod's deletion or podd's next start retries.
    func releaseSandboxNetwork() {
        guard usesCNI, let network = context.network, network.saved(uid: uid) != nil else { return }
        Self.tearDownNetwork(uid: uid, network: network, names: context.podNames, logger: context.logger,
                             pod: "\(pod.metadata.namespace)/\(pod.metadata.name)")
    }

    /// The addresses the status shows: the CNI result's, or the host's for a hostNetwork pod.
    func networkAddresses() -> (podIP: String?, hostIP: String?) {
        if pod.spec.hostNetwork { return (hostIP, hostIP) }
        return (podIPs.first, hostIP)
    }

    /// A re-adopted pod: its addresses from the saved attachment, its name back in the
    /// table, and a CHECK of its network (off the actor: it execs the plugins); a failed
    /// CHECK is reported as an event.
    func resumeNetwork(monitorPID: pid_t) {
        guard usesCNI, let network = context.network, let saved = network.saved(uid: uid) else { return }
        if let json = saved.result, let result = try? CNIResult(json: json) { podIPs = result.podIPs }
        registerName()
        let (uid, pod, logger) = (self.uid, self.pod, context.logger)
        DetachedThread.run {
            do throws(CNIError) { try network.check(uid: uid, monitorPID: monitorPID) } catch {
                logger.warning("pod \(pod.metadata.namespace)/\(pod.metadata.name): CNI CHECK failed: \(error)")
                Task { await self.record(type: "Warning", reason: "NetworkNotReady", message: "CNI CHECK of the pod's network failed: \(error)", container: nil) }
            }
        }
    }

    /// Puts the pod in the name table (and its IP in its own /etc/hosts).
    private func registerName() {
        guard let table = context.podNames, !podIPs.isEmpty else { return }
        table.set(uid: uid, file: hostsFile(), path: layout.runDirectory + "/etc/hosts")
    }

    private func hostsFile() -> HostsFile {
        // The hostname, not the kernel's name (an FQDN with setHostnameAsFQDN), as kubelet
        // writes the file.
        HostsFile(hostname: PodHostname(pod).hostname, podName: pod.metadata.name, subdomain: pod.spec.subdomain,
                  namespace: pod.metadata.namespace, podIPs: podIPs,
                  aliases: pod.spec.hostAliases.map { .init(ip: $0.ip, hostnames: $0.hostnames) })
    }

    /// Writes /etc/hosts, /etc/hostname and /etc/resolv.conf of the pod, as kubelet does.
    func writeNetworkFiles() throws(OSError) {
        let dir = layout.runDirectory + "/etc"
        let aliases = pod.spec.hostAliases.map { HostsFile.Alias(ip: $0.ip, hostnames: $0.hostnames) }
        let hosts = pod.spec.hostNetwork
            ? HostsFile.hostNetwork(hostFile: FileSystem.readString("/etc/hosts") ?? "", aliases: aliases)
            : hostsFile().text
        try FileSystem.write(dir + "/hosts", Array(hosts.utf8))
        try FileSystem.write(dir + "/hostname", Array((layout.hostname + "\n").utf8))
        try FileSystem.write(dir + "/resolv.conf", Array(resolvConf().text.utf8))
    }

    /// The pod's resolv.conf per its dnsPolicy. podd has no cluster DNS: ClusterFirst (and
    /// ClusterFirstWithHostNet) fall back to the host's resolvers, as kubelet does without
    /// one; None is dnsConfig alone.
    func resolvConf() -> ResolvConf {
        let base = pod.spec.dnsPolicy == .none ? ResolvConf() : ResolvConf.host(read: FileSystem.readString)
        guard let dns = pod.spec.dnsConfig else { return base }
        return base.merging(nameservers: dns.nameservers, searches: dns.searches,
                            options: dns.options.map { ($0.name, $0.value) })
    }

    /// DEL of the pod's network (on a worker thread, from teardown), logged when it fails:
    /// the attachment stays saved, and the next podd start tries again.
    static func tearDownNetwork(uid: String, network: PodAttachments?, names: PodNameTable?, logger: Logger, pod: String) {
        names?.remove(uid: uid)
        guard let network else { return }
        do throws(CNIError) { try network.detach(uid: uid) } catch {
            logger.error("pod \(pod): CNI DEL failed (retried at podd's next start): \(error)")
        }
    }
}
