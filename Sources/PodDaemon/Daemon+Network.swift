import Logging
import PodNetwork
import PodOS
import PodRuntime

extension Daemon {
    /// The pods' CNI network per the config (nil with `network: none`): the default conflist
    /// written when none exists, IP forwarding on; what was done goes to the log.
    static func startNetwork(_ config: PoddConfig, logger: Logger) -> PodAttachments? {
        let settings = config.network
        guard settings.enabled else { return nil }
        let attachments = PodAttachments(settings: .init(confDir: settings.cniConfDir, binDirectories: settings.cniBinDir,
                                                         networkName: settings.defaultNetwork, subnet: settings.subnet,
                                                         stateDirectory: config.runDir + "/cni"))
        do throws(CNIError) {
            for note in try attachments.prepare() { logger.info("network: \(note)") }
        } catch {
            logger.error("network: \(error): pods will fail to start until this is fixed")
        }
        return attachments
    }

    /// DEL for every saved attachment whose pod podd no longer has (deleted while podd was
    /// down, or whose DEL failed before): nothing of a gone pod stays on the host's network.
    static func collectStaleAttachments(_ network: PodAttachments, registry: PodRegistry, logger: Logger) async {
        let known = Set(await registry.list(namespace: nil).compactMap(\.metadata.uid))
        let stale = network.savedUIDs().filter { !known.contains($0) }
        guard !stale.isEmpty else { return }
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            DetachedThread.run {
                for uid in stale {
                    do throws(CNIError) {
                        try network.detach(uid: uid)
                        logger.info("network: released the network of pod \(uid), which is gone (CNI DEL)")
                    } catch {
                        logger.error("network: CNI DEL for gone pod \(uid) failed: \(error)")
                    }
                }
                done.resume()
            }
        }
    }
}
