import PodModel

/// An object's labels and annotations as kubectl's describers print them
/// (printLabelsMultiline, printAnnotationsMultiline): one per line, sorted, `<none>` when there
/// are none; the lines go through the describer's TabWriter.
enum DescribedMetadata {
    static func labelLines(_ title: String, _ labels: JSONValue?) -> [String] {
        let pairs = labels.stringMap.sorted { $0.key < $1.key }
        guard !pairs.isEmpty else { return ["\(title):\t<none>"] }
        return pairs.enumerated().map { index, pair in (index == 0 ? "\(title):\t" : "\t") + "\(pair.key)=\(pair.value)" }
    }

    private static let maxAnnotationLength = 140

    /// kubectl's last-applied configuration is left out; a long or multi-line value is
    /// printed under its key, each line cut at 140 characters.
    static func annotationLines(_ annotations: JSONValue?) -> [String] {
        let pairs = annotations.stringMap
            .filter { $0.key != "kubectl.kubernetes.io/last-applied-configuration" }
            .sorted { $0.key < $1.key }
        guard !pairs.isEmpty else { return ["Annotations:\t<none>"] }
        var lines: [String] = []
        for (index, pair) in pairs.enumerated() {
            let prefix = index == 0 ? "Annotations:\t" : "\t"
            var value = Substring(pair.value)
            if value.hasSuffix("\n") { value = value.dropLast() }
            if value.count + pair.key.count + 2 > maxAnnotationLength || value.contains("\n") {
                lines.append(prefix + "\(pair.key):")
                for part in value.split(separator: "\n", omittingEmptySubsequences: false) {
                    var text = String(part)
                    let limit = maxAnnotationLength - 2
                    if text.count > limit { text = String(text.prefix(limit)) + "..." }
                    lines.append("\t  " + text)
                }
            } else {
                lines.append(prefix + "\(pair.key): \(value)")
            }
        }
        return lines
    }
}
