/// kubectl's columns of ConfigMaps and Secrets (k8s.io/kubernetes pkg/printers/internalversion),
/// for the server's `meta.k8s.io/v1` Table: plain functions a Table builder calls. `age` is
/// the object's age as the builder writes every AGE cell (kubectl's HumanDuration).
public enum ConfigDataTableRows {
    /// A column definition: name, type, format, description, priority (0: always shown).
    public struct Column: Sendable, Equatable {
        public var name: String
        public var type: String
        public var format: String
        public var description: String
        public var priority: Int

        public init(name: String, type: String, format: String = "", description: String, priority: Int = 0) {
            self.name = name
            self.type = type
            self.format = format
            self.description = description
            self.priority = priority
        }
    }

    static let nameColumn = Column(name: "Name", type: "string", format: "name",
                                   description: "Name must be unique within a namespace. Cannot be updated.")
    static let ageColumn = Column(name: "Age", type: "string",
                                  description: "CreationTimestamp is a timestamp representing the server time when this object was created.")

    /// NAME DATA AGE.
    public static let configMapColumns = [
        nameColumn,
        Column(name: "Data", type: "string", description: "Data contains the configuration data."),
        ageColumn,
    ]

    /// NAME TYPE DATA AGE.
    public static let secretColumns = [
        nameColumn,
        Column(name: "Type", type: "string", description: "Used to facilitate programmatic handling of secret data."),
        Column(name: "Data", type: "string", description: "Data contains the secret data."),
        ageColumn,
    ]

    /// The cells of a ConfigMap's row: name, number of keys (data and binaryData), age.
    public static func cells(_ configMap: ConfigMap, age: String) -> [JSONValue] {
        [.string(configMap.metadata.name), .int(Int64(configMap.data.count + configMap.binaryData.count)), .string(age)]
    }

    /// The cells of a Secret's row: name, type, number of keys, age.
    public static func cells(_ secret: Secret, age: String) -> [JSONValue] {
        [.string(secret.metadata.name), .string(secret.type), .int(Int64(secret.data.count)), .string(age)]
    }
}
