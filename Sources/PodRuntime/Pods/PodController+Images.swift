import PodImages
import PodModel

/// A container's image before it starts, as kubelet's image manager does it: present
/// images are used (a short name matching a local image whatever the policy), missing ones
/// (or all, for `Always`) are pulled through the daemon's `ImagePulls` while the container
/// waits in ContainerCreating; the outcome goes to the lifecycle (`imagePulled`,
/// `imagePullFailed`), which decides what follows.
extension PodController {
    /// Where a container's image stands for the start being made.
    enum ImageReadiness {
        case ready
        /// A pull is under way; the lifecycle hears when it ends.
        case pulling
        /// The start cannot be made: this event tells the lifecycle why.
        case refused(PodLifecycle.Event)
    }

    /// The pulls of the pod's containers in progress, and the containers whose image has
    /// just been pulled for the start being made (so that `Always` does not pull again).
    struct ContainerImages {
        var pulling: Set<String> = []
        var pulled: Set<String> = []
        var tasks: [String: Task<Void, Never>] = [:]
    }

    /// ErrImageNeverPull, with kubelet's message and what to do about it.
    static func neverPulled(_ name: String, image: String) -> PodLifecycle.Event {
        .startFailed(name, reason: "ErrImageNeverPull",
                     message: "Container image \"\(image)\" is not present with pull policy of Never: " + howToGet(image, pull: true),
                     terminated: false)
    }

    /// How to put `image` in podd's store by hand (DESIGN: the message of a missing image
    /// says how to pull, load or import it). A local name (`localhost/...`) is never pulled;
    /// `pull` offers a pull for the others, where one has not just failed.
    static func howToGet(_ image: String, pull: Bool) -> String {
        let local = ImageName.parsed(image)?.isLocal ?? false
        let load = "load it from a docker or OCI archive (podctl image load -i ARCHIVE)"
            + (local ? ", or import a root file system as it (podctl image import \(image) ROOTFS.tar)" : "")
        return pull && !local ? "pull it (podctl image pull \(image)) or " + load : load
    }

    func imageReadiness(_ name: String, _ def: ContainerDefinition) -> ImageReadiness {
        let text = def.image
        guard let imageName = ImageName.parsed(text) else {
            return .refused(.startFailed(name, reason: "InvalidImageName",
                                         message: "Failed to apply default image tag \"\(text)\": couldn't parse image name \"\(text)\": invalid reference format",
                                         terminated: false))
        }
        if containerImages.pulling.contains(name) { return .pulling }
        if containerImages.pulled.remove(name) != nil, context.images.resolve(imageName) != nil { return .ready }
        // Read at each start, as kubelet reads them at each sync of the pod: a missing one is
        // warned about even when the image is present.
        let secrets = ImagePullSecrets(pod, catalog: context.configData)
        if let message = secrets.missingMessage {
            record(type: "Warning", reason: "FailedToRetrieveImagePullSecret", message: message, container: nil)
        }
        let policy = pullPolicy(name, image: text)
        if startsWithoutPull(imageName, policy: policy) {
            record(type: "Normal", reason: "Pulled", message: "Container image \"\(text)\" already present on machine", container: name)
            return .ready
        }
        if policy == .never { return .refused(Self.neverPulled(name, image: text)) }
        if imageName.isLocal {
            // Imported or loaded here, or nowhere: `localhost` is no registry to ask (and
            // whatever listens on the host's port 443 is not to be sent a pull).
            record(type: "Normal", reason: "Pulling", message: "Pulling image \"\(text)\"", container: name)
            let why = "a local image (\(ImageName.localDomain)/...) is never pulled, and \"\(text)\" is not in the store; "
            return .refused(.imagePullFailed(name, image: text, message: why + Self.howToGet(text, pull: false)))
        }
        if let problem = secrets.problem {
            record(type: "Normal", reason: "Pulling", message: "Pulling image \"\(text)\"", container: name)
            return .refused(.imagePullFailed(name, image: text, message: problem))
        }
        startPull(name, image: text, imageName, credentials: secrets.keyring.lookup(imageName))
        return .pulling
    }

    /// Whether the container's start uses the image as it is here, without a pull: present,
    /// and not to be pulled again (`Always`) unless it is local (imported or loaded: there is
    /// nowhere to pull it from).
    func startsWithoutPull(_ imageName: ImageName, policy: ImagePullPolicy) -> Bool {
        guard context.images.resolve(imageName) != nil else { return false }
        if policy != .always { return true }
        return imageName.isLocal || (imageName.localCandidate.map { context.images.image(named: $0) != nil } ?? false)
    }

    /// The container's pull policy: its own, else the default for its image reference (`text`).
    func pullPolicy(_ name: String, image text: String) -> ImagePullPolicy {
        pullPolicy(name) ?? ImagePullPolicyDefaults.policy(for: text)
    }

    private func pullPolicy(_ name: String) -> ImagePullPolicy? {
        if let c = pod.spec.containers.first(where: { $0.name == name }) { return c.imagePullPolicy }
        if let c = pod.spec.initContainers.first(where: { $0.name == name }) { return c.imagePullPolicy }
        if let c = pod.spec.ephemeralContainers.first(where: { $0.name == name }) { return c.common.imagePullPolicy }
        return nil
    }

    private func startPull(_ name: String, image: String, _ imageName: ImageName, credentials: [RegistryCredentials]) {
        containerImages.pulling.insert(name)
        record(type: "Normal", reason: "Pulling", message: "Pulling image \"\(image)\"", container: name)
        let pulls = context.pulls
        let asked = RuntimeClock.monotonic()
        containerImages.tasks[name] = Task { [weak self] in
            let result = await pulls.pull(imageName, credentials: credentials)
            await self?.pullEnded(name, image: image, result, waited: RuntimeClock.monotonic() - asked)
        }
    }

    private func pullEnded(_ name: String, image: String, _ result: Result<ImagePulls.Outcome, ImagePulls.Failure>, waited: Double) {
        containerImages.pulling.remove(name)
        containerImages.tasks[name] = nil
        switch result {
        case let .success(outcome):
            containerImages.pulled.insert(name)
            record(type: "Normal", reason: "Pulled",
                   message: "Successfully pulled image \"\(image)\" in \(goDuration(outcome.pullSeconds)) (\(goDuration(waited)) including waiting). Image size: \(outcome.image.size) bytes.",
                   container: name)
            apply(lifecycle.handle(.imagePulled(name), at: RuntimeClock.now()))
        case let .failure(failure):
            let message = failure.message + "; " + Self.howToGet(image, pull: false)
            apply(lifecycle.handle(.imagePullFailed(name, image: image, message: message), at: RuntimeClock.now()))
        }
    }

    /// Drops the pod's waits for its pulls (the pulls themselves go on: other pods and the
    /// store may want the image; their outcome no longer reaches this pod).
    func cancelImageWaits() {
        for task in containerImages.tasks.values { task.cancel() }
        containerImages.tasks = [:]
    }
}
