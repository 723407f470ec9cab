/// What replacing a stored pod with a new version of it (PUT, PATCH, label, annotate) asks
/// of the pod's containers. Kubernetes itself allows few spec changes in place; podd instead
/// runs a changed spec by restarting the pod (same uid, volumes kept), and applies a change
/// of labels or annotations alone without touching a container.
public enum PodUpdate: Sendable, Equatable {
    /// Nothing the pod is made of changed (the same object sent again): keep it as it is,
    /// with its resourceVersion.
    case unchanged
    /// Labels, annotations or finalizers changed, nothing the containers run from: update in
    /// place.
    case metadataOnly
    /// The spec changed, or an annotation read when the pod's state machine is made (the
    /// restart scope): stop the containers and start them again from the new version.
    case restart

    /// The annotations whose value is read once, when a pod's containers are started: a
    /// change of one is applied like a change of the spec.
    public static let restartingAnnotations: Set<String> = ["podd.io/restart-scope"]

    /// Classifies the change from `old` to `new` (their status and server-set metadata,
    /// such as resourceVersion and timestamps, do not count).
    public static func classify(old: Pod, new: Pod) -> PodUpdate {
        if old.spec != new.spec { return .restart }
        for key in restartingAnnotations where old.metadata.annotations[key] != new.metadata.annotations[key] {
            return .restart
        }
        if old.metadata.labels != new.metadata.labels || old.metadata.annotations != new.metadata.annotations
            || old.metadata.finalizers != new.metadata.finalizers {
            return .metadataOnly
        }
        return .unchanged
    }
}
