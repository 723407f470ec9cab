/// The volume sources that project API data into files (configMap, secret, projected,
/// downwardAPI): their keys in a Volume, read and written here so that Volume.swift only
/// dispatches to them.
enum ConfigVolumeDecoding {
    static let keys = ["configMap", "secret", "projected", "downwardAPI"]

    static func decode(_ key: String, from reader: inout ObjectReader) -> VolumeSource? {
        switch key {
        case "configMap": return reader.decode(key, as: ConfigMapVolumeSource.self).map(VolumeSource.configMap)
        case "secret": return reader.decode(key, as: SecretVolumeSource.self).map(VolumeSource.secret)
        case "projected": return reader.decode(key, as: ProjectedVolumeSource.self).map(VolumeSource.projected)
        case "downwardAPI": return reader.decode(key, as: DownwardAPIVolumeSource.self).map(VolumeSource.downwardAPI)
        default: return nil
        }
    }

    static func json(_ source: VolumeSource) -> (String, JSONValue)? {
        switch source {
        case let .configMap(s): return ("configMap", s.json)
        case let .secret(s): return ("secret", s.json)
        case let .projected(s): return ("projected", s.json)
        case let .downwardAPI(s): return ("downwardAPI", s.json)
        case .emptyDir, .hostPath: return nil
        }
    }
}
