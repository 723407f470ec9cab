/// What a pod's containers ask for together, resource by resource, as Kubernetes adds it up
/// (AggregateContainerRequests and AggregateContainerLimits in k8s.io/component-helpers/
/// resource, after KEP-753 for sidecars): the app containers and the native sidecars summed,
/// and no less than any init container needs while it runs, which is its own amount plus the
/// sidecars started before it. Ephemeral containers do not count.
public enum ContainerResourceTotals {
    /// The containers' requests added up.
    public static func requests(_ spec: PodSpec) -> [String: ResourceAmount] {
        aggregate(spec) { $0.requests }
    }

    /// The containers' limits added up.
    public static func limits(_ spec: PodSpec) -> [String: ResourceAmount] {
        aggregate(spec) { $0.limits }
    }

    static func aggregate(_ spec: PodSpec, _ list: (ResourceRequirements) -> [String: Quantity]) -> [String: ResourceAmount] {
        var result: [String: ResourceAmount] = [:]
        for container in spec.containers {
            for (name, quantity) in list(container.resources) { ResourceAmount.add(ResourceAmount(quantity), to: &result, as: name) }
        }
        var sidecars: [String: ResourceAmount] = [:]
        var initPeak: [String: ResourceAmount] = [:]
        for container in spec.initContainers {
            let own = list(container.resources)
            var whileRunning: [String: ResourceAmount]
            if container.isSidecar {
                for (name, quantity) in own {
                    ResourceAmount.add(ResourceAmount(quantity), to: &result, as: name)
                    ResourceAmount.add(ResourceAmount(quantity), to: &sidecars, as: name)
                }
                whileRunning = sidecars
            } else {
                whileRunning = [:]
                for (name, quantity) in own { ResourceAmount.add(ResourceAmount(quantity), to: &whileRunning, as: name) }
                for (name, amount) in sidecars { ResourceAmount.add(amount, to: &whileRunning, as: name) }
            }
            for (name, amount) in whileRunning { ResourceAmount.keepLarger(amount, in: &initPeak, as: name) }
        }
        for (name, amount) in initPeak { ResourceAmount.keepLarger(amount, in: &result, as: name) }
        return result
    }
}
