import PodModel
import Synchronization

/// What the scheduler weighs of the stored objects, readable at once from any thread: the
/// PriorityClasses (the built-in ones too), which the Priority admission of a pod reads, and
/// the PodDisruptionBudgets, which preemption weighs when it picks victims. The pod registry
/// reads them while it admits and schedules, without a hop to the object registry's actor.
/// Only `ObjectRegistry` writes it.
public final class SchedulingCatalog: Sendable {
    private struct Contents {
        var classes: [String: PriorityClass]
        /// "namespace/name" → budget, with the status the disruption controller last wrote.
        var budgets: [String: PodDisruptionBudget] = [:]
    }

    private let contents: Mutex<Contents>

    /// The built-in classes from the start: a pod naming one is admitted even where no object
    /// registry runs.
    public init() {
        contents = Mutex(Contents(classes: Dictionary(uniqueKeysWithValues: PriorityClass.builtIns.map { ($0.metadata.name, $0) })))
    }

    public func priorityClass(named name: String) -> PriorityClass? { contents.withLock { $0.classes[name] } }

    /// The class marked globalDefault, if one is (of several, which admission prevents, the
    /// lowest value, as the API server picks).
    public var globalDefault: PriorityClass? {
        contents.withLock { c in
            c.classes.values.filter { $0.globalDefault == true }.min { ($0.value, $0.metadata.name) < ($1.value, $1.metadata.name) }
        }
    }

    /// Every PodDisruptionBudget, of every namespace.
    public var budgets: [PodDisruptionBudget] { contents.withLock { Array($0.budgets.values) } }

    /// Sets (or with nil, removes) one object of a kind the scheduler weighs; other kinds are
    /// not kept.
    func set<T: StoredObject>(_ type: T.Type, key: String, name: String, _ object: T?) {
        contents.withLock { c in
            if T.self == PriorityClass.self { c.classes[name] = object as? PriorityClass }
            if T.self == PodDisruptionBudget.self { c.budgets[key] = object as? PodDisruptionBudget }
        }
    }
}
