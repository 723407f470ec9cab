import Glibc
import PodModel

/// The values of the downward API's field paths for one pod (env fieldRef and downwardAPI
/// volume files), as kubelet gives them.
struct DownwardAPIValues {
    let pod: Pod
    let node: NodeResources

    /// The machine's name: a pod's spec.nodeName on podd.
    static let nodeName: String = {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }()

    func field(_ path: String) -> String {
        if let (map, key) = DownwardAPIField.subscripted(path) {
            return (map == "metadata.labels" ? pod.metadata.labels : pod.metadata.annotations)[key] ?? ""
        }
        switch path {
        case "metadata.name": return pod.metadata.name
        case "metadata.namespace": return pod.metadata.namespace
        case "metadata.uid": return pod.metadata.uid ?? ""
        case "metadata.labels": return DownwardAPIField.formatMap(pod.metadata.labels)
        case "metadata.annotations": return DownwardAPIField.formatMap(pod.metadata.annotations)
        case "spec.nodeName": return Self.nodeName
        case "spec.serviceAccountName": return ""
        case "status.hostIP", "status.hostIPs": return pod.status.hostIP ?? ""
        case "status.podIP", "status.podIPs": return pod.status.podIP ?? ""
        default: return ""
        }
    }
}
