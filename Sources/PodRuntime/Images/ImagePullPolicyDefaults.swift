import PodImages
import PodModel

/// Kubernetes' default `imagePullPolicy`, filled into the stored spec as the API server
/// does: `Always` for an image with the tag `latest` or none (and no digest), else
/// `IfNotPresent`. A reference that does not parse gets `IfNotPresent` (its container
/// reports InvalidImageName).
public enum ImagePullPolicyDefaults {
    public static func policy(for image: String) -> ImagePullPolicy {
        guard let name = ImageName.parsed(image) else { return .ifNotPresent }
        if name.digest == nil, name.tagWasImplied || name.tag == "latest" { return .always }
        return .ifNotPresent
    }

    public static func applied(to spec: PodSpec) -> PodSpec {
        var spec = spec
        for i in spec.containers.indices where spec.containers[i].imagePullPolicy == nil {
            spec.containers[i].imagePullPolicy = policy(for: spec.containers[i].image)
        }
        for i in spec.initContainers.indices where spec.initContainers[i].imagePullPolicy == nil {
            spec.initContainers[i].imagePullPolicy = policy(for: spec.initContainers[i].image)
        }
        return spec
    }
}
