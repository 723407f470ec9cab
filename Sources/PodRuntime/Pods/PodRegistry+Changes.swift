import PodModel

/// Changes outside a pod that its controller must hear of: ConfigMaps, Secrets, images.
extension PodRegistry {
    /// A ConfigMap or Secret changed: each pod of its namespace hears of it (the controller
    /// checks whether it uses the object).
    public func configDataChanged(_ change: ObjectRegistry.Change) {
        for (key, controller) in controllers where key.namespace == change.namespace {
            Task { await controller.configDataChanged(resource: change.resource, name: change.name) }
        }
    }

    /// An image was taken in, tagged, untagged or removed: what a pod set up ahead with the
    /// image a name had may no longer be what that name means.
    public func imagesChanged() {
        let all = Array(controllers.values)
        Task { for controller in all { await controller.imagesChanged() } }
    }
}
