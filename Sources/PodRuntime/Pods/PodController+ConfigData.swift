import PodModel
import PodOS

/// What a pod's containers take from ConfigMaps, Secrets and the downward API: their
/// projected volumes, written (atomically) when a container that mounts one starts and again
/// whenever what they project changes, and their environment, resolved at each start. A
/// missing object or key that is not optional makes the start a CreateContainerConfigError,
/// which the lifecycle retries when the object appears (`configDataChanged`).
extension PodController {
    /// Writes the projected volumes `def` mounts and resolves its environment (`KEY=VALUE`).
    func prepareConfiguration(_ def: ContainerDefinition) throws(ConfigReferenceError) -> [String] {
        let launch = ContainerLaunch(pod: pod, layout: layout, images: context.images)
        let snapshot = current()
        let node = NodeResources.detect(stateDir: context.config.stateDir).bounded(by: pod.spec.resources)
        let payload = ProjectedVolumePayload(pod: snapshot, catalog: context.configData, node: node)
        for mount in def.volumeMounts {
            guard let volume = pod.spec.volumes.first(where: { $0.name == mount.name }), ConfigDataMounts.isReadOnly(volume) else { continue }
            let files = try payload.files(volume.source)
            do {
                try AtomicWriter(directory: layout.volumeSource(volume)).write(files)
            } catch {
                throw ConfigReferenceError(message: "MountVolume.SetUp failed for volume \"\(volume.name)\": \(error)")
            }
        }
        let result = try resolveEnvironment(def, launch: launch, snapshot: snapshot, node: node)
        for skipped in result.skipped {
            record(type: "Warning", reason: "InvalidEnvironmentVariableNames",
                   message: "Keys [\(skipped.keys.joined(separator: ", "))] from the EnvFrom \(skipped.kind) \(pod.metadata.namespace)/\(skipped.name) were skipped since they are considered invalid environment variable names.",
                   container: def.name)
        }
        let variables = result.assignments
        configuredEnvironments[def.name] = variables
        return variables
    }

    /// `def`'s environment from the ConfigMaps, Secrets and pod fields as they are now.
    func resolveEnvironment(_ def: ContainerDefinition, launch: ContainerLaunch? = nil, snapshot: Pod? = nil,
                            node: NodeResources? = nil) throws(ConfigReferenceError) -> ContainerEnvironment.Result {
        let launch = launch ?? ContainerLaunch(pod: pod, layout: layout, images: context.images)
        let node = node ?? NodeResources.detect(stateDir: context.config.stateDir).bounded(by: pod.spec.resources)
        let environment = ContainerEnvironment(pod: snapshot ?? current(), catalog: context.configData, node: node)
        return try environment.resolve(def, base: launch.baseEnvironment(def))
    }

    /// The environment of an exec into a container whose run this podd did not start (one
    /// re-adopted after a restart): resolved now, leaving out what cannot be.
    func execEnvironment(_ def: ContainerDefinition, fallback: [String]) -> [String] {
        let launch = ContainerLaunch(pod: pod, layout: layout, images: context.images)
        let environment = ContainerEnvironment(pod: current(), catalog: context.configData,
                                               node: NodeResources.detect(stateDir: context.config.stateDir).bounded(by: pod.spec.resources))
        guard let result = try? environment.resolve(def, base: launch.baseEnvironment(def),
                                                    strict: false) else { return fallback }
        return result.assignments
    }

    /// A ConfigMap or Secret of the pod's namespace was created, changed or deleted. Volumes
    /// already written that project it are brought up to date (one swap of `..data`; a
    /// deleted object leaves them as they were, as kubelet does; subPath mounts and env keep
    /// what they had), and containers waiting for it try again.
    public func configDataChanged(resource: String, name: String) {
        guard !gone, ConfigDataMounts.refers(pod, resource: resource, name: name) else { return }
        giveUpChained()
        refreshWrittenVolumes { ConfigDataMounts.volume($0, uses: resource, name: name) }
        apply(lifecycle.handle(.configDataChanged, at: RuntimeClock.now()))
    }

    /// The pod's labels or annotations changed: downward API files follow, as kubelet's do.
    func metadataChanged() {
        guard !gone else { return }
        refreshWrittenVolumes { volume in
            switch volume.source {
            case .downwardAPI: return true
            case let .projected(p): return p.sources.contains { if case .downwardAPI = $0 { return true } else { return false } }
            default: return false
            }
        }
    }

    /// Writes again the volumes already written (by a container's start) that `include`
    /// selects; one that cannot be made now (its object deleted) keeps what it had.
    private func refreshWrittenVolumes(_ include: (Volume) -> Bool) {
        let payload = ProjectedVolumePayload(pod: current(), catalog: context.configData,
                                             node: NodeResources.detect(stateDir: context.config.stateDir).bounded(by: pod.spec.resources))
        for volume in pod.spec.volumes where ConfigDataMounts.isReadOnly(volume) && include(volume) {
            let writer = AtomicWriter(directory: layout.volumeSource(volume))
            guard writer.currentVersion() != nil else { continue }
            do {
                try writer.write(try payload.files(volume.source))
            } catch {
                context.logger.debug("pod \(pod.metadata.namespace)/\(pod.metadata.name): volume \(volume.name) kept as it was: \(error)")
            }
        }
    }
}
