import PodOS

/// /proc/meminfo's figures, in bytes, by field name (`MemAvailable`, `Inactive(file)`): what
/// the node's conditions (NodeReport) and its metrics (PodUsageSampler.nodeUsage) read.
enum MemoryInfo {
    static func read() -> [Substring: Int64] {
        guard let text = FileSystem.readString("/proc/meminfo") else { return [:] }
        var fields: [Substring: Int64] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            guard parts.count >= 2, parts[0].hasSuffix(":"), let kib = Int64(parts[1]) else { continue }
            fields[parts[0].dropLast()] = kib * 1024
        }
        return fields
    }
}
