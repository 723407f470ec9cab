import PodImages
import PodModel
import PodOS

/// The ephemeralcontainers subresource (PUT and PATCH end here) and podd's prune extension.
extension PodRegistry {
    /// Replaces a pod's list of ephemeral containers, as Kubernetes' ephemeralcontainers
    /// subresource does: append-only (existing ones may be neither changed nor removed),
    /// validated as Kubernetes validates them (an image in the store must have a command; one
    /// not in it is pulled as the container starts). The pod is
    /// stored before the answer; the new containers start meanwhile. A new container without an
    /// image gets the configured debug image (podd's default for `podctl debug`).
    public func updateEphemeralContainers(_ key: Key, _ requested: [EphemeralContainer]) async throws(RuntimeError) -> Pod {
        await lockPod(key)
        defer { unlockPod(key) }
        guard let controller = controllers[key], snapshots[key] != nil else { throw .notFound(kind: "pods", name: key.name) }
        if let refusal = await controller.ephemeralContainerRefusal() {
            throw .conflict(kind: "pods", name: key.name, reason: refusal)
        }
        // Read after the await: a replaced controller must be seen.
        guard controllers[key] === controller, let old = snapshots[key] else { throw .notFound(kind: "pods", name: key.name) }
        let existing = Set(old.spec.ephemeralContainers.map(\.name))
        var list = requested
        for i in list.indices where !existing.contains(list[i].name) && list[i].image.isEmpty {
            list[i].image = ctx.config.debugImage
        }
        if list == old.spec.ephemeralContainers { return old }

        var updated = old
        updated.spec.ephemeralContainers = list
        let errors = PodValidation.validateEphemeralUpdate(old: old, new: list) + PodFeatures.unsupported(updated, supported: features)
        var causes = errors.map(RuntimeError.Cause.init)
        for (index, c) in list.enumerated() where !existing.contains(c.name) {
            causes += imageCauses(c.common, path: "spec.ephemeralContainers[\(index)]")
        }
        if !causes.isEmpty { throw .invalid(kind: "pods", name: key.name, causes: causes) }
        // Append-only: the existing ones keep their places, the new ones come after them in
        // the order given (a strategic merge patch may list a new one first).
        list = old.spec.ephemeralContainers + list.filter { !existing.contains($0.name) }
        updated.spec.ephemeralContainers = list

        updated.metadata.resourceVersion = nextResourceVersion()
        // The new spec is visible at once, so that the next update starts from it.
        snapshots[key] = updated
        // The new containers start while the pod is synced to disk, as a created pod does;
        // the answer waits for both.
        let starting = Task { await controller.setEphemeralContainers(list) }
        do { try ctx.store.save(updated) } catch {
            _ = await starting.value
            throw .insufficientStorage(what: "cannot store pod \"\(key.name)\"",
                                       reason: "\(error); its new ephemeral containers run, but would not be known to podd after a restart")
        }
        // Taken as any publication of the controller is: a status it published meanwhile (the
        // new container started, or could not) is newer than this one and stays.
        let (pod, sequence) = await starting.value
        published("MODIFIED", pod, generation: controller.generation, sequence: sequence)
        return snapshots[key] ?? pod
    }

    /// Removes ephemeral containers that have ended from a pod (podd's extension, so that
    /// debug containers do not pile up): the one named, or with nil every one that has
    /// ended. A running one is refused (409); the pod is stored before the answer.
    public func pruneEphemeralContainers(_ key: Key, name: String?) async throws(RuntimeError) -> Pod {
        await lockPod(key)
        defer { unlockPod(key) }
        guard let controller = controllers[key], let pod = snapshots[key] else { throw .notFound(kind: "pods", name: key.name) }
        let names = name.map { [$0] } ?? pod.spec.ephemeralContainers.map(\.name)
        var pruned = 0
        for n in names {
            switch await controller.pruneEphemeralContainer(n) {
            case .pruned: pruned += 1
            case .notFound:
                if name != nil {
                    throw .notFound(kind: "pods", name: key.name, detail: "ephemeral container \"\(n)\" not found in pod \"\(key.name)\"")
                }
            case .running:
                if name != nil {
                    throw .conflict(kind: "pods", name: key.name,
                                    reason: "ephemeral container \"\(n)\" of pod \"\(key.name)\" is still running; it can be pruned once it has exited")
                }
            }
        }
        let current = await controller.current()
        guard pruned > 0 else { return current }
        do { try ctx.store.save(current) } catch {
            throw .insufficientStorage(what: "cannot store pod \"\(key.name)\"", reason: "\(error)")
        }
        guard controllers[key] === controller else { return current }
        return commit("MODIFIED", current)
    }

    /// The image of a container to be started: a reference that parses, and, when the image
    /// is in the store, one with a command. An image not in the store is pulled when the
    /// container starts (its pull policy and the pod's imagePullSecrets, as for app
    /// containers); a failed pull shows in its status (ErrImagePull, ImagePullBackOff).
    func imageCauses(_ c: Container, path: String) -> [RuntimeError.Cause] {
        guard let name = try? ImageName(parsing: c.image) else {
            return [.init(reason: "FieldValueInvalid", message: "Invalid value: \"\(c.image)\": not a valid image reference",
                          field: path + ".image")]
        }
        guard let image = ctx.images.resolve(name) else { return [] }
        let run = image.configuration.config
        if c.command.isEmpty, c.args.isEmpty, run.entrypoint.isEmpty, run.cmd.isEmpty {
            return [.init(reason: "FieldValueRequired",
                          message: "Required value: image \(name.familiar) has no default command (Entrypoint or Cmd); set command",
                          field: path + ".command")]
        }
        return []
    }
}
