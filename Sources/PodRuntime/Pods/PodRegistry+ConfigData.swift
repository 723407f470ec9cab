import PodModel

extension PodRegistry {
    /// A ConfigMap or Secret changed: each pod of its namespace hears of it (the controller
    /// checks whether it uses the object).
    public func configDataChanged(_ change: ConfigDataRegistry.Change) {
        for (key, controller) in controllers where key.namespace == change.namespace {
            Task { await controller.configDataChanged(resource: change.resource, name: change.name) }
        }
    }
}
