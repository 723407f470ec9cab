import PodModel

extension PoddConfig {
    /// `eviction: {checkInterval: 10s}`: how often the local storage of pods that set an
    /// ephemeral-storage limit or an emptyDir sizeLimit is measured (kubelet's eviction
    /// manager looks every 10 s). Pods without such a limit are never measured.
    public struct EvictionSettings: Sendable, Equatable {
        public var checkInterval = 10.0
        public init() {}

        static func parse(_ value: JSONValue, source: String) throws(ConfigError) -> EvictionSettings {
            guard let object = value.objectValue else {
                throw ConfigError(message: "\(source): eviction: expected a mapping with checkInterval")
            }
            var settings = EvictionSettings()
            for (key, v) in object {
                switch key {
                case "checkInterval":
                    guard let seconds = Duration.parseSeconds(v), seconds >= 0.1 else {
                        throw ConfigError(message: "\(source): eviction.checkInterval: \"\(v.stringValue ?? v.typeName)\" is not a duration of at least 100ms (examples: 500ms, 10s, 1m)")
                    }
                    settings.checkInterval = seconds
                default:
                    throw ConfigError(message: "\(source): eviction.\(key): unknown key (known: checkInterval)")
                }
            }
            return settings
        }
    }
}
