/// PodDisruptionBudget validation as the API server does it (ValidatePodDisruptionBudget),
/// with Kubernetes' paths and messages.
public enum DisruptionBudgetValidation {
    public static func validate(_ budget: PodDisruptionBudget) -> [FieldError] {
        var errors = PodValidation.validateMetadata(budget.metadata)
        let spec = budget.spec
        let path = FieldPath("spec")
        if spec.minAvailable != nil, spec.maxUnavailable != nil {
            errors.append(.invalid(path, spec.json, "minAvailable and maxUnavailable cannot be both set"))
        }
        if let value = spec.minAvailable { errors += amountErrors(value, path: path.child("minAvailable")) }
        if let value = spec.maxUnavailable { errors += amountErrors(value, path: path.child("maxUnavailable")) }
        if let selector = spec.selector { errors += selector.errors(path: path.child("selector")) }
        if let policy = spec.unhealthyPodEvictionPolicy, !PodDisruptionBudget.unhealthyPodEvictionPolicies.contains(policy) {
            errors.append(.notSupported(path.child("unhealthyPodEvictionPolicy"), .string(policy),
                                        supported: PodDisruptionBudget.unhealthyPodEvictionPolicies))
        }
        return errors
    }

    /// ValidatePositiveIntOrPercent and IsNotMoreThan100Percent.
    static func amountErrors(_ value: IntOrString, path: FieldPath) -> [FieldError] {
        switch value {
        case .int(let number):
            return number < 0 ? [.invalid(path, value.json, "must be greater than or equal to 0")] : []
        case .string(let text):
            guard let percent = DisruptionBudgets.percent(text) else {
                return [.invalid(path, value.json, "must be an integer or percentage (e.g '5%')")]
            }
            return percent > 100 ? [.invalid(path, value.json, "must not be greater than 100%")] : []
        }
    }
}
