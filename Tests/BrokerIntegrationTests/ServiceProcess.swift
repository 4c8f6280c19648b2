import Foundation
import Synchronization
import Testing

/// One of the package's executables started as a process the test can signal and wait for;
/// what it writes goes to files the test can read. posix_spawn and waitpid: Foundation's
/// `Process.waitUntilExit` was seen to hang here.
final class ServiceProcess: Sendable {
    let pid: pid_t
    let stdoutPath: String
    let stderrPath: String
    /// Set once waitpid has collected it: its pid may then belong to another process.
    private let reaped = Mutex(false)

    /// Starts `program ARGUMENTS...` with `environment` added (the shell's Lodestone settings
    /// removed first) and stdin from the file `stdin`, or /dev/null.
    init(_ program: String, _ arguments: [String], environment: [String: String] = [:], stdin: String? = nil) throws {
        let executable = PublishProcess.binary(named: program)
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            Issue.record("\(program) is not built at \(executable); run `swift build` first")
            throw PublishProcess.Missing()
        }
        let base = NSTemporaryDirectory() + "lode-service-\(UUID().uuidString)"
        stdoutPath = base + ".out"
        stderrPath = base + ".err"
        var env = ProcessInfo.processInfo.environment
        for key in ["LODE_AMQP_URL", "LODE_AMQP_PASSWORD", "LODE_AMQP_PASSWORD_FILE", "LODE_CONFIG", "LODE_DB",
                    "LODE_METRICS_ADDRESS"] { env[key] = nil }
        env.merge(environment) { $1 }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, stdin ?? "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdoutPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        // The child starts with no signal blocked and every signal at its default: a test
        // thread may have SIGTERM blocked (libdispatch's signal handling does), and a child that
        // inherits that mask would never see the SIGTERM a test sends it.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t(), allSignals = sigset_t()
        sigemptyset(&noSignals)
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard spawned == 0 else { throw PublishProcess.SpawnFailed(code: spawned) }
        self.pid = pid
    }

    func signal(_ number: Int32) {
        guard !reaped.withLock({ $0 }) else { return }
        kill(pid, number)
    }

    /// Waits for the process to end, on a thread of its own; its exit status, or 128 + the
    /// signal that ended it.
    func exitStatus() async -> Int32 {
        let pid = pid
        let status: Int32 = await withCheckedContinuation { continuation in
            Thread {
                var status: Int32 = 0
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                continuation.resume(returning: (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f))
            }.start()
        }
        reaped.withLock { $0 = true }
        return status
    }

    /// For a `lode-worker` started with `--metrics-address 127.0.0.1:0`: waits until it logs the
    /// port it got, and returns `http://127.0.0.1:PORT`.
    func metricsBase() async throws -> String {
        var port: Int?
        _ = await BrokerFixture.eventually {
            port = stderr.split(separator: "\n").lazy.filter { $0.contains("metrics listening") }
                .compactMap { line in line.firstMatch(of: /address=127\.0\.0\.1:(\d+)/).flatMap { Int($0.1) } }.first
            return port != nil
        }
        guard let port else {
            Issue.record("no 'metrics listening' line: \(stderr)")
            throw PublishProcess.Missing()
        }
        return "http://127.0.0.1:\(port)"
    }

    /// Whether the process has not exited yet (a zombie waiting to be reaped has exited); read
    /// from /proc, so that ``exitStatus()`` still reaps it.
    var isRunning: Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        return stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first != "Z"
    }

    var stdout: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    deinit {
        if !reaped.withLock({ $0 }) {
            // A test that failed half-way: end the process and collect it.
            kill(pid, SIGKILL)
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        }
        unlink(stdoutPath)
        unlink(stderrPath)
    }
}
