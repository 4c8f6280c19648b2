import CLodeBuildInfo

/// What a build of Lodestone is: its release version and the commit it was built from, as every
/// executable's `--version` prints them (`0.15.0 (commit 0134acc67c26)`), for support tickets.
///
/// Both are fixed at build time (Package.swift hands them to the compiler); a build from a tree
/// without git gets its commit from `LODE_BUILD_COMMIT`, or says `unknown`.
public enum BuildInfo {
    /// The release version, e.g. `0.15.0`.
    public static let version = String(cString: lode_build_version())
    /// The full commit hash, with `-dirty` when the tree had uncommitted changes; `unknown` when
    /// the build could not tell.
    public static let commit = String(cString: lode_build_commit())

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
