/// A container's `resources`, checked as Kubernetes' ValidateContainerResourceRequirements
/// checks them (pkg/apis/core/validation), with its messages.
enum ResourceValidation {
    /// The resource names a container may ask for without a "/" (isStandardContainerResourceName).
    static let standardNames: Set<String> = [ResourceRequirements.cpu, ResourceRequirements.memory, ResourceRequirements.ephemeralStorage]

    static func validate(_ resources: ResourceRequirements, path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        let limitsPath = path.child("limits")
        let requestsPath = path.child("requests")
        for name in resources.limits.keys.sorted() {
            guard let quantity = resources.limits[name] else { continue }
            errors += validateEntry(name, quantity, path: limitsPath.key(name))
        }
        for name in resources.requests.keys.sorted() {
            guard let quantity = resources.requests[name] else { continue }
            errors += validateEntry(name, quantity, path: requestsPath.key(name))
            guard let limit = resources.limits[name] else { continue }
            if ResourceRequirements.hugepageSize(name) != nil, Quantity.compare(quantity, limit) != 0 {
                // Hugepages cannot be overcommitted: the request is the limit.
                errors.append(.invalid(requestsPath, .string(quantity.string), "must be equal to \(name) limit of \(limit.string)"))
            } else if Quantity.compare(quantity, limit) > 0 {
                errors.append(.invalid(requestsPath, .string(quantity.string), "must be less than or equal to \(name) limit of \(limit.string)"))
            }
        }
        let computeNames = [ResourceRequirements.cpu, ResourceRequirements.memory]
        let hasHugepages = (Array(resources.limits.keys) + Array(resources.requests.keys)).contains { ResourceRequirements.hugepageSize($0) != nil }
        let hasCompute = computeNames.contains { resources.limits[$0] != nil || resources.requests[$0] != nil }
        if hasHugepages && !hasCompute {
            errors.append(.forbidden(limitsPath, "HugePages require cpu or memory"))
        }
        return errors
    }

    private static func validateEntry(_ name: String, _ quantity: Quantity, path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        if name.contains("/") {
            // Extended resources (nvidia.com/gpu, ...) need a device plugin podd does not have.
            errors.append(.notSupportedByPodd(path))
        } else if !standardNames.contains(name) && !name.hasPrefix(ResourceRequirements.hugepagesPrefix) {
            errors.append(.invalid(path, .string(name), "must be a standard resource for containers"))
        }
        if quantity.value < 0 {
            errors.append(.invalid(path, .string(quantity.string), "must be greater than or equal to 0"))
        } else if name.hasPrefix(ResourceRequirements.hugepagesPrefix) {
            let pageText = String(name.dropFirst(ResourceRequirements.hugepagesPrefix.count))
            if let pageSize = ResourceRequirements.hugepageSize(name) {
                if quantity.value % pageSize != 0 {
                    errors.append(.invalid(path, .string(quantity.string), "\(quantity.string) is not positive integer multiple of \(pageText)"))
                }
            } else {
                errors.append(.invalid(path, .string(name), "must be a standard resource for containers"))
            }
        }
        return errors
    }
}
