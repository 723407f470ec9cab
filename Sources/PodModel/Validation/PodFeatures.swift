/// Pod features the daemon may or may not implement yet. The model reads and validates
/// all of them; the daemon states which it runs, and refuses a pod using any other with an
/// error at each field path, so that nothing a manifest asks for is silently ignored.
public struct PodFeatures: OptionSet, Sendable, Hashable {
    public let rawValue: Int

    public init(rawValue: Int) { self.rawValue = rawValue }

    /// startupProbe, livenessProbe, readinessProbe.
    public static let probes = PodFeatures(rawValue: 1 << 0)
    /// lifecycle.postStart, lifecycle.preStop.
    public static let lifecycleHooks = PodFeatures(rawValue: 1 << 1)
    /// Init containers with restartPolicy Always.
    public static let nativeSidecars = PodFeatures(rawValue: 1 << 2)
    /// spec.ephemeralContainers.
    public static let ephemeralContainers = PodFeatures(rawValue: 1 << 3)
    /// stdin, stdinOnce, tty.
    public static let stdinTTY = PodFeatures(rawValue: 1 << 4)

    /// Every feature.
    public static let all: PodFeatures = [.probes, .lifecycleHooks, .nativeSidecars, .ephemeralContainers, .stdinTTY]

    /// A `Forbidden: not supported by podd yet` error at each field of `pod` that uses a
    /// feature outside `supported`.
    public static func unsupported(_ pod: Pod, supported: PodFeatures) -> [FieldError] {
        var errors: [FieldError] = []
        let spec = FieldPath("spec")
        func check(_ container: Container, at path: FieldPath, isInit: Bool) {
            if !supported.contains(.nativeSidecars), isInit, container.restartPolicy != nil {
                errors.append(notYet(path.child("restartPolicy")))
            }
            if !supported.contains(.probes) {
                if container.startupProbe != nil { errors.append(notYet(path.child("startupProbe"))) }
                if container.livenessProbe != nil { errors.append(notYet(path.child("livenessProbe"))) }
                if container.readinessProbe != nil { errors.append(notYet(path.child("readinessProbe"))) }
            }
            if !supported.contains(.lifecycleHooks), let lifecycle = container.lifecycle {
                if lifecycle.postStart != nil { errors.append(notYet(path.child("lifecycle", "postStart"))) }
                if lifecycle.preStop != nil { errors.append(notYet(path.child("lifecycle", "preStop"))) }
            }
            if !supported.contains(.stdinTTY) {
                if container.stdin { errors.append(notYet(path.child("stdin"))) }
                if container.stdinOnce { errors.append(notYet(path.child("stdinOnce"))) }
                if container.tty { errors.append(notYet(path.child("tty"))) }
            }
        }
        for (index, container) in pod.spec.initContainers.enumerated() {
            check(container, at: spec.child("initContainers").index(index), isInit: true)
        }
        for (index, container) in pod.spec.containers.enumerated() {
            check(container, at: spec.child("containers").index(index), isInit: false)
        }
        if !pod.spec.ephemeralContainers.isEmpty {
            if supported.contains(.ephemeralContainers) {
                for (index, ephemeral) in pod.spec.ephemeralContainers.enumerated() {
                    check(ephemeral.common, at: spec.child("ephemeralContainers").index(index), isInit: false)
                }
            } else {
                errors.append(notYet(spec.child("ephemeralContainers")))
            }
        }
        return errors
    }

    private static func notYet(_ path: FieldPath) -> FieldError {
        .forbidden(path, "not supported by podd yet")
    }
}

extension PodValidation {
    /// The fields of `pod` that use features outside `supported` (see
    /// `PodFeatures.unsupported`), so that admission reads as one list of checks.
    public static func unsupported(_ pod: Pod, supported: PodFeatures) -> [FieldError] {
        PodFeatures.unsupported(pod, supported: supported)
    }
}
