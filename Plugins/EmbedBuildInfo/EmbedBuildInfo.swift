import Foundation
import PackagePlugin

/// Writes Lodestone's version (the `VERSION` file) and the commit it is built from into a
/// generated source file of the target it is applied to, before every build.
///
/// The commit is `LODE_BUILD_COMMIT` when set (a build without a git checkout, such as an image
/// built from a copy of the sources), else the checkout's `HEAD`, with `-dirty` when tracked
/// files have uncommitted changes, else `unknown`. The file goes to the plugin's work directory
/// under `.build`, never into the source tree. The command runs again when `VERSION`, `HEAD` or
/// the git index change, and rewrites the file only when its content does.
@main
struct EmbedBuildInfo: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let root = context.package.directoryURL
        let output = context.pluginWorkDirectoryURL.appending(path: "Generated")
        let file = output.appending(path: "BuildInfo+Generated.swift")
        var environment = ["PATH": "/usr/local/bin:/usr/bin:/bin"]
        if let commit = ProcessInfo.processInfo.environment["LODE_BUILD_COMMIT"] {
            environment["LODE_BUILD_COMMIT"] = commit
        }
        // What changes when the version, HEAD or the index do (a commit, a checkout, an add):
        // the build runs the command again then, and only then.
        let inputs = ["VERSION", ".git/HEAD", ".git/index", ".git/logs/HEAD", ".git/packed-refs"]
            .map { root.appending(path: $0) }
            .filter { FileManager.default.fileExists(atPath: $0.path) }
        return [
            .buildCommand(
                displayName: "Embedding Lodestone's version and commit",
                executable: URL(fileURLWithPath: "/bin/sh"),
                arguments: ["-c", Self.script, "embed-build-info", root.path, output.path],
                environment: environment,
                inputFiles: inputs,
                outputFiles: [file]),
        ]
    }

    /// `sh -c SCRIPT embed-build-info PACKAGE_DIRECTORY OUTPUT_DIRECTORY`.
    static let script = #"""
        set -eu
        root=$1 out=$2
        version=$(sed -n '1s/^\([0-9][0-9A-Za-z.~+-]*\)[[:space:]]*$/\1/p' "$root/VERSION" 2>/dev/null || true)
        commit=${LODE_BUILD_COMMIT:-}
        if [ -z "$commit" ] && commit=$(git -C "$root" rev-parse HEAD 2>/dev/null); then
          if [ -n "$(git -C "$root" status --porcelain --untracked-files=no 2>/dev/null)" ]; then commit="$commit-dirty"; fi
        fi
        commit=$(printf '%s' "${commit:-unknown}" | tr -cd '0-9A-Za-z._-' | cut -c1-64)
        text="// Generated before each build by the EmbedBuildInfo plugin (Plugins/); not part of the sources.
        let generatedVersion = \"${version:-unknown}\"
        let generatedCommit = \"${commit:-unknown}\""
        mkdir -p "$out"
        if [ ! -f "$out/BuildInfo+Generated.swift" ] || [ "$(cat "$out/BuildInfo+Generated.swift")" != "$text" ]; then
          printf '%s\n' "$text" >"$out/BuildInfo+Generated.swift"
        fi
        """#
}
