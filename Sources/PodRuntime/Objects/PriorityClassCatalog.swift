import PodModel
import Synchronization

/// The PriorityClasses podd holds (the built-in ones too), readable at once from any thread:
/// the Priority admission of a pod reads them while the pod registry admits it, without a
/// hop to the object registry's actor. Only `ObjectRegistry` writes it.
public final class PriorityClassCatalog: Sendable {
    private let classes: Mutex<[String: PriorityClass]>

    /// The built-in classes from the start: a pod naming one is admitted even where no object
    /// registry runs.
    public init() {
        classes = Mutex(Dictionary(uniqueKeysWithValues: PriorityClass.builtIns.map { ($0.metadata.name, $0) }))
    }

    public func priorityClass(named name: String) -> PriorityClass? { classes.withLock { $0[name] } }

    /// The class marked globalDefault, if one is (of several, which admission prevents, the
    /// lowest value, as the API server picks).
    public var globalDefault: PriorityClass? {
        classes.withLock { all in all.values.filter { $0.globalDefault == true }.min { ($0.value, $0.metadata.name) < ($1.value, $1.metadata.name) } }
    }

    func set(_ name: String, _ priorityClass: PriorityClass?) { classes.withLock { $0[name] = priorityClass } }
}
