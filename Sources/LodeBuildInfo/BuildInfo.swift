/// What a build of Lodestone is: its release version and the commit it was built from, as every
/// executable's `--version` prints them (`0.15.0 (commit 0134acc67c26)`), for support tickets.
///
/// Both are fixed at build time by the `EmbedBuildInfo` plugin (the `VERSION` file and the
/// checkout's `HEAD`, or `LODE_BUILD_COMMIT` for a build without git), in a generated file under
/// `.build`: building never changes the source tree.
public enum BuildInfo {
    /// The release version, e.g. `0.15.0`.
    public static let version = generatedVersion
    /// The full commit hash, with `-dirty` when tracked files had uncommitted changes; `unknown`
    /// when the build could not tell.
    public static let commit = generatedCommit

    /// `0.15.0 (commit 0134acc67c26)`: what `--version` prints (after the program's name).
    public static var versionLine: String {
        "\(version) (commit \(shortCommit))"
    }

    /// The commit's first 12 hex digits, keeping a `-dirty` mark.
    public static var shortCommit: String {
        let dirty = commit.hasSuffix("-dirty")
        let hash = dirty ? String(commit.dropLast("-dirty".count)) : commit
        guard hash.count > 12, hash.allSatisfy(\.isHexDigit) else { return commit }
        return String(hash.prefix(12)) + (dirty ? "-dirty" : "")
    }
}
