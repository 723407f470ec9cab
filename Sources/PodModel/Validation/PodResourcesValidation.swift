/// A pod's own `spec.resources`, checked as Kubernetes' validatePodResources checks them
/// (pkg/apis/core/validation/validation.go), with its paths and messages:
/// - each name with validatePodResourceName: a qualified name, a standard resource type (or
///   fully qualified), and one of the supported ones (cpu, memory, hugepages-<size>);
/// - each amount not negative, a hugepage amount whole pages; a request no more than its
///   limit (a hugepage request equal to it, and never without one); hugepages only with cpu
///   or memory (validateResourceRequirements);
/// - validatePodResourceConsistency: a pod-level request no less than what the containers
///   request together, a pod-level hugepage limit no less than what they limit together,
///   and no app container's limit above the pod's limit.
/// `claims` is refused while decoding (PodResources).
enum PodResourcesValidation {
    static func validate(_ spec: PodSpec, path: FieldPath) -> [FieldError] {
        guard let resources = spec.resources else { return [] }
        return validateRequirements(resources, path: path) + validateConsistency(spec, resources, path: path)
    }

    // MARK: validateResourceRequirements with validatePodResourceName

    static func validateRequirements(_ resources: PodResources, path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        let limitsPath = path.child("limits")
        let requestsPath = path.child("requests")
        var hasCompute = false
        var hasHugepages = false
        for name in resources.limits.keys.sorted() {
            guard let quantity = resources.limits[name] else { continue }
            errors += validateEntry(name, quantity, path: limitsPath.key(name))
            hasCompute = hasCompute || isCompute(name)
            hasHugepages = hasHugepages || ResourceRequirements.hugepageSize(name) != nil
        }
        for name in resources.requests.keys.sorted() {
            guard let quantity = resources.requests[name] else { continue }
            errors += validateEntry(name, quantity, path: requestsPath.key(name))
            let overcommitAllowed = !isHugepages(name)
            if let limit = resources.limits[name] {
                if !overcommitAllowed, Quantity.compare(quantity, limit) != 0 {
                    errors.append(.invalid(requestsPath, .string(quantity.string), "must be equal to \(name) limit of \(limit.string)"))
                } else if Quantity.compare(quantity, limit) > 0 {
                    errors.append(.invalid(requestsPath, .string(quantity.string), "must be less than or equal to \(name) limit of \(limit.string)"))
                }
            } else if !overcommitAllowed {
                errors.append(.required(limitsPath, "Limit must be set for non overcommitable resources"))
            }
            hasCompute = hasCompute || isCompute(name)
            hasHugepages = hasHugepages || ResourceRequirements.hugepageSize(name) != nil
        }
        if hasHugepages && !hasCompute {
            errors.append(.forbidden(path, "HugePages require cpu or memory"))
        }
        return errors
    }

    private static func isCompute(_ name: String) -> Bool { name == ResourceRequirements.cpu || name == ResourceRequirements.memory }

    /// A hugepages-<size> name (helper.IsHugePageResourceName: the prefix is enough).
    private static func isHugepages(_ name: String) -> Bool { name.hasPrefix(ResourceRequirements.hugepagesPrefix) }

    private static func validateEntry(_ name: String, _ quantity: Quantity, path: FieldPath) -> [FieldError] {
        var errors = validateName(name, path: path)
        if quantity.value < 0 {
            errors.append(.invalid(path, .string(quantity.string), "must be greater than or equal to 0"))
        }
        if integerNames.contains(name), let milli = quantity.milliValue, milli % 1000 != 0 {
            errors.append(.invalid(path, .string(quantity.string), "must be an integer"))
        }
        if isHugepages(name) {
            // IsHugePageResourceValueDivisible; Kubernetes names the resource in the message.
            let pageSize = ResourceRequirements.hugepageSize(name)
            if pageSize == nil || quantity.value % (pageSize ?? 1) != 0 {
                errors.append(.invalid(path, .string(quantity.string), "\(quantity.string) is not positive integer multiple of \(name)"))
            }
        }
        return errors
    }

    /// validatePodResourceName: validateResourceName first (its errors alone when it fails),
    /// then the pod-level set.
    static func validateName(_ name: String, path: FieldPath) -> [FieldError] {
        let qualified = NameRules.qualifiedNameErrors(name)
        if !qualified.isEmpty { return qualified.map { .invalid(path, .string(name), $0) } }
        if !name.contains("/") && !standardNames.contains(name) && !name.hasPrefix(ResourceRequirements.hugepagesPrefix)
            && !name.hasPrefix("requests." + ResourceRequirements.hugepagesPrefix)
        {
            return [.invalid(path, .string(name), "must be a standard resource type or fully qualified")]
        }
        if !PodResources.isSupported(name) {
            return [.notSupported(path, .string(name), supported: PodResources.supportedNames)]
        }
        return []
    }

    /// Resource names Kubernetes knows (helper.IsStandardResourceName, besides hugepages).
    static let standardNames: Set<String> = [
        "cpu", "memory", "ephemeral-storage", "requests.cpu", "requests.memory", "requests.ephemeral-storage",
        "limits.cpu", "limits.memory", "limits.ephemeral-storage", "pods", "resourcequotas", "services",
        "replicationcontrollers", "secrets", "configmaps", "persistentvolumeclaims", "storage", "requests.storage",
        "services.nodeports", "services.loadbalancers",
    ]

    /// Resources counted in whole units (helper.IsIntegerResourceName, extended ones aside).
    static let integerNames: Set<String> = [
        "pods", "resourcequotas", "services", "replicationcontrollers", "secrets", "configmaps",
        "persistentvolumeclaims", "services.nodeports", "services.loadbalancers",
    ]

    // MARK: validatePodResourceConsistency

    static func validateConsistency(_ spec: PodSpec, _ resources: PodResources, path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        // Only what the pod itself requests or limits is compared: a resource it leaves out
        // (ephemeral-storage, say) is its containers' business.
        let requests = ContainerResourceTotals.requests(spec)
        for name in requests.keys.sorted() {
            guard let total = requests[name], let podRequest = resources.requests[name], total > ResourceAmount(podRequest) else { continue }
            errors.append(.invalid(path.child("requests").key(name), .string(podRequest.string),
                                   "must be greater than or equal to aggregate container requests of \(total)"))
        }
        // Hugepages cannot be overcommitted: the pod's limit holds what its containers limit.
        let limits = ContainerResourceTotals.limits(spec)
        for name in limits.keys.sorted() where name.hasPrefix(ResourceRequirements.hugepagesPrefix) {
            guard let total = limits[name], let podLimit = resources.limits[name], total > ResourceAmount(podLimit) else { continue }
            errors.append(.invalid(path.child("limits").key(name), .string(podLimit.string),
                                   "must be greater than or equal to aggregate container limits of \(total)"))
        }
        for (index, container) in spec.containers.enumerated() {
            for name in container.resources.limits.keys.sorted() {
                guard let limit = container.resources.limits[name], let podLimit = resources.limits[name] else { continue }
                if Quantity.compare(limit, podLimit) > 0 {
                    // Kubernetes builds this path from the pod's resources path, as here.
                    errors.append(.invalid(path.child("containers").index(index).key(name).child("limits"), .string(limit.string),
                                           "must be less than or equal to pod limits of \(podLimit.string)"))
                }
            }
        }
        return errors
    }
}
