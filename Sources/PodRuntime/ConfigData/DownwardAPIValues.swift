import Glibc
import PodModel

/// The values of the downward API's field paths for one pod (env fieldRef and downwardAPI
/// volume files), as kubelet gives them.
struct DownwardAPIValues {
    let pod: Pod
    let node: NodeResources

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
        // The node it is bound to (podd's, named by the machine's host name: NodeScheduling).
        case "spec.nodeName": return pod.spec.nodeName ?? ""
        case "spec.serviceAccountName": return pod.spec.serviceAccountName
        case "status.hostIP", "status.hostIPs": return pod.status.hostIP ?? ""
        case "status.podIP", "status.podIPs": return pod.status.podIP ?? ""
        default: return ""
        }
    }
}
