import PackagePlugin

/// Embeds docs/openapi.yaml, the one description of podd's API, in the target that serves it
/// (PodAPI's `/openapi/v2` and `/openapi/v3` are made from it at run time): the served
/// documents and the committed one cannot drift apart, and an edit of the file is served by
/// the next build, with nothing to regenerate.
@main
struct EmbedOpenAPI: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) async throws -> [Command] {
        let input = context.package.directoryURL.appending(path: "docs").appending(path: "openapi.yaml")
        let output = context.pluginWorkDirectoryURL.appending(path: "OpenAPIDocumentText.swift")
        return [
            .buildCommand(displayName: "Embedding docs/openapi.yaml in \(target.name)",
                          executable: try context.tool(named: "OpenAPIEmbedder").url,
                          arguments: [input.path(), output.path()],
                          inputFiles: [input], outputFiles: [output]),
        ]
    }
}
