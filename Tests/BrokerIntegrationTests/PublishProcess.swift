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

    /// One of the package's executables, built beside the test bundle.
    static func binary(named program: String) -> String {
        if program == "lode-publish", let path = ProcessInfo.processInfo.environment["LODE_PUBLISH_BIN"] { return path }
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return executable.deletingLastPathComponent().appendingPathComponent(program).path
    }

    /// Runs `lode-publish ARGUMENTS...` with `environment` added, stdin from `stdin` (a file) or
    /// /dev/null, and waits for it on a thread of its own (not the cooperative pool).
    static func run(_ arguments: [String], environment: [String: String] = [:], stdin: String? = nil,
                    program: String = "lode-publish") async throws -> Outcome {
        let executable = binary(named: program)
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            Issue.record("\(program) is not built at \(executable); run `swift build` first")
            throw Missing()
        }
        let base = NSTemporaryDirectory() + "lode-publish-test-\(UUID().uuidString)"
        let outPath = base + ".out", errPath = base + ".err"
        defer { unlink(outPath); unlink(errPath) }
        var env = ProcessInfo.processInfo.environment
        for key in ["LODE_AMQP_URL", "LODE_AMQP_PASSWORD", "LODE_AMQP_PASSWORD_FILE", "LODE_CONFIG"] { env[key] = nil }
        env.merge(environment) { $1 }
        let environmentLines = env.map { "\($0.key)=\($0.value)" }
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                var actions = posix_spawn_file_actions_t()
                posix_spawn_file_actions_init(&actions)
                defer { posix_spawn_file_actions_destroy(&actions) }
                posix_spawn_file_actions_addopen(&actions, 0, stdin ?? "/dev/null", O_RDONLY, 0)
                posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
                posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
                let argv = ([executable] + arguments).map { strdup($0) } + [nil]
                let envp = environmentLines.map { strdup($0) } + [nil]
                defer {
                    for pointer in argv { free(pointer) }
                    for pointer in envp { free(pointer) }
                }
                var pid: pid_t = 0
                let spawned = posix_spawn(&pid, executable, &actions, nil, argv, envp)
                guard spawned == 0 else {
                    continuation.resume(throwing: SpawnFailed(code: spawned))
                    return
                }
                var status: Int32 = 0
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                continuation.resume(returning: (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f))
            }
            thread.start()
        }
        return Outcome(status: status,
                       stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
                       stderr: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "")
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
