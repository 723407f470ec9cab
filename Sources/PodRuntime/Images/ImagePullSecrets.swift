import PodImages
import PodModel

/// A pod's `spec.imagePullSecrets` as kubelet reads them before a pull
/// (`getPullSecretsForPod`, then `MakeDockerKeyring`): each named Secret of the pod's
/// namespace of type `kubernetes.io/dockerconfigjson` (key `.dockerconfigjson`) or
/// `kubernetes.io/dockercfg` (key `.dockercfg`) adds its entries to the pod's keyring; a
/// Secret of another type, or without its key, adds nothing; a missing one is named (the
/// pull goes on without it, with a warning event); one whose config does not parse fails
/// the pull.
struct ImagePullSecrets {
    var keyring = DockerConfigKeyring()
    /// Names of the secrets that do not exist.
    var missing: [String] = []
    /// Why a secret's config cannot be read (the pull fails with this), never its contents.
    var problem: String?

    init(_ pod: Pod, catalog: ConfigDataCatalog) {
        for reference in pod.spec.imagePullSecrets where !reference.name.isEmpty {
            guard let secret = catalog.secret(namespace: pod.metadata.namespace, name: reference.name) else {
                missing.append(reference.name)
                continue
            }
            let origin = "imagePullSecret \"\(reference.name)\""
            do throws(FetchError) {
                if secret.type == Secret.KnownType.dockerConfigJSON, let bytes = secret.data[".dockerconfigjson"], !bytes.isEmpty {
                    try keyring.add(dockerConfig: bytes, legacy: false, origin: origin)
                } else if secret.type == Secret.KnownType.dockercfg, let bytes = secret.data[".dockercfg"], !bytes.isEmpty {
                    try keyring.add(dockerConfig: bytes, legacy: true, origin: origin)
                }
            } catch {
                if problem == nil { problem = error.message }
            }
        }
    }

    /// kubelet's FailedToRetrieveImagePullSecret message, or nil when every secret is there.
    var missingMessage: String? {
        guard !missing.isEmpty else { return nil }
        return "Unable to retrieve some image pull secrets (\(missing.joined(separator: ", "))); attempting to pull the image may not succeed."
    }
}
