import Foundation
import Testing

/// Runs the built `lode-publish` binary as a user would, and collects what it printed.
///
/// The binary is the one SwiftPM built beside the test bundle (this target depends on it, so
/// `swift build --build-tests` builds it); `LODE_PUBLISH_BIN` overrides the path.
enum PublishProcess {
    struct Outcome: Sendable {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static var binary: String { binary(named: "lode-publish") }

    /// One of the package's executables, built beside the test bundle; an absolute path is
    /// taken as it is (a system program such as chromium).
    static func binary(named program: String) -> String {
        if program.hasPrefix("/") { return program }
        if program == "lode-publish", let path = ProcessInfo.processInfo.environment["LODE_PUBLISH_BIN"] { return path }
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return executable.deletingLastPathComponent().appendingPathComponent(program).path
    }

    /// Runs `lode-publish ARGUMENTS...` with `environment` added, stdin from `stdin` (a file) or
    /// /dev/null, and waits for it on a thread of its own (not the cooperative pool).
    static func run(_ arguments: [String], environment: [String: String] = [:], stdin: String? = nil,
                    program: String = "lode-publish") async throws -> Outcome {
        let process = try ServiceProcess(program, arguments, environment: environment, stdin: stdin)
        let status = await process.exitStatus()
        return Outcome(status: status, stdout: process.stdout, stderr: process.stderr)
    }

    struct Missing: Error {}
    struct SpawnFailed: Error { var code: Int32 }

    /// Writes `text` to a new temporary file with the given extension and returns its path.
    static func file(_ text: String, extension ext: String) throws -> String {
        let path = NSTemporaryDirectory() + "lode-publish-input-\(UUID().uuidString).\(ext)"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}

/// One valid event as an NDJSON line.
func publishedEventLine(_ index: Int, source: String = "bt-dept/projects") -> String {
    #"{"specversion":"1.0","id":"evt-\#(index)","source":"\#(source)","type":"zone.project.status_changed","time":"2024-05-05T10:00:00+08:00","data":{"project_id":"BT-\#(index)","status":"started"}}"#
}
