import PodModel
import PodOS

/// Ephemeral containers, exec and attach: the parts of a pod's controller that serve
/// interactive sessions (issue 4).
extension PodController {
    /// Monitor messages that are not about a container's life (exec sessions and the like).
    func monitorSaidOther(_ message: ControlMessage) {
        context.logger.debug("pod \(pod.metadata.name): unhandled monitor message \(message.op)")
    }
}
