import PodModel
import Synchronization

/// The ServiceAccounts, readable at once from any thread: the ServiceAccount admission of a
/// pod (PodRegistry) reads them without a hop to the object registry's actor. Only
/// `ObjectRegistry` writes it. The `default` account of a namespace counts as there before the
/// registry has made it (it makes one in each namespace that is used, as the ServiceAccount
/// controller does in each new namespace): `wantsDefault` asks for it.
public final class ServiceAccountCatalog: Sendable {
    private let accounts = Mutex<[String: ServiceAccount]>([:])
    private let defaultWanted = Mutex<(@Sendable (String) -> Void)?>(nil)

    public init() {}

    public func account(namespace: String, name: String) -> ServiceAccount? {
        accounts.withLock { $0["\(namespace)/\(name)"] }
    }

    /// The account a pod of `namespace` naming `name` runs as; nil when there is none (a
    /// `default` not made yet is made, and counts as an empty one meanwhile).
    public func admitted(namespace: String, name: String) -> ServiceAccount? {
        if let account = account(namespace: namespace, name: name) { return account }
        guard name == ServiceAccount.defaultName else { return nil }
        defaultWanted.withLock { $0 }?(namespace)
        return ServiceAccount.defaultAccount(namespace: namespace)
    }

    /// Who makes a namespace's missing `default` account (the object registry, once it runs).
    public func onDefaultWanted(_ make: @escaping @Sendable (String) -> Void) {
        defaultWanted.withLock { $0 = make }
    }

    func set(key: String, _ account: ServiceAccount?) {
        accounts.withLock { $0[key] = account }
    }
}
