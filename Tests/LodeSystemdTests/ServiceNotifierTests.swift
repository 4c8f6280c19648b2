import Foundation
import Glibc
import Logging
import ServiceLifecycle
import Synchronization
import LodeTestSupport
import Testing

@testable import LodeSystemd

@Test(arguments: [false, true])
func theNotifierSendsEachMessageAsOneDatagramToThePathOrAbstractSocket(abstract: Bool) throws {
    let listener = try NotifySocketListener(abstract: abstract)
    let notifier = try #require(ServiceNotifier(environment: ["NOTIFY_SOCKET": listener.name]))
    #expect(notifier.ready(status: "consuming lode.work"))
    #expect(notifier.watchdog())
    #expect(notifier.status("store failing:\ndisk full"))
    #expect(notifier.stopping(status: "stopping"))
    let messages = listener.receive(for: .seconds(10), until: { $0.count == 4 })
    #expect(messages == [
        "READY=1\nSTATUS=consuming lode.work", "WATCHDOG=1", "STATUS=store failing: disk full", "STOPPING=1\nSTATUS=stopping",
    ])
}

@Test func withoutANotifySocketThereIsNoNotifierAndABadOneIsRefused() {
    #expect(ServiceNotifier(environment: [:]) == nil)
    #expect(ServiceNotifier(environment: ["NOTIFY_SOCKET": ""]) == nil)
    #expect(ServiceNotifier(environment: ["NOTIFY_SOCKET": "relative/path"]) == nil)
    #expect(ServiceNotifier(environment: ["NOTIFY_SOCKET": "/" + String(repeating: "x", count: 200)]) == nil)
}

@Test func theWatchdogRequestIsReadFromTheEnvironmentForThisProcessOnly() throws {
    let request = try #require(WatchdogRequest(environment: ["WATCHDOG_USEC": "60000000"], processID: 42))
    #expect(request.timeout == .seconds(60))
    #expect(request.pingInterval == .seconds(15))
    #expect(request.stallLimit(floor: .seconds(3)) == .seconds(30))
    #expect(WatchdogRequest(timeout: .seconds(2)).stallLimit(floor: .seconds(3)) == .seconds(3))
    #expect(WatchdogRequest(environment: ["WATCHDOG_USEC": "60000000", "WATCHDOG_PID": "42"], processID: 42) != nil)
    #expect(WatchdogRequest(environment: ["WATCHDOG_USEC": "60000000", "WATCHDOG_PID": "43"], processID: 42) == nil)
    #expect(WatchdogRequest(environment: ["WATCHDOG_USEC": "0"]) == nil)
    #expect(WatchdogRequest(environment: ["WATCHDOG_USEC": "soon"]) == nil)
    #expect(WatchdogRequest(environment: [:]) == nil)
}

/// The service's progress as the test sets it: how long ago it last turned.
final class Progress: Sendable {
    private let stuckSince = Mutex<ContinuousClock.Instant?>(nil)
    func stick() { stuckSince.withLock { $0 = .now } }
    func resume() { stuckSince.withLock { $0 = nil } }
    var sinceLastTurn: Duration { stuckSince.withLock { $0.map { .now - $0 } ?? .zero } }
}

@Test func watchdogPingsStopWhileTheServiceMakesNoProgressAndResumeWhenItDoes() async throws {
    let listener = try NotifySocketListener()
    let notifier = try #require(ServiceNotifier(socketName: listener.name))
    let progress = Progress()
    let service = WatchdogService(
        notifier: notifier, request: WatchdogRequest(timeout: .milliseconds(400)), stallFloor: .milliseconds(300),
        statusInterval: .milliseconds(100), logger: Logger(label: "test"),
        sinceLastTurn: { progress.sinceLastTurn }, status: { "consuming lode.work: 3 applied" })
    let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: [service], logger: Logger(label: "test")))
    try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        let pings = { @Sendable (messages: [String]) in messages.filter { $0.contains("WATCHDOG=1") }.count }
        let healthy = await listener.collect(for: .seconds(120)) { pings($0) >= 2 }
        #expect(pings(healthy) >= 2, "\(healthy)")
        #expect(healthy.contains { $0.contains("STATUS=consuming lode.work: 3 applied") }, "\(healthy)")

        // Past the stall limit the pings stop, and the status says why.
        progress.stick()
        let stalling = await listener.collect(for: .seconds(120)) { $0.contains { $0.contains("STATUS=stuck: no progress for") } }
        #expect(stalling.contains { $0.contains("STATUS=stuck: no progress for") }, "\(stalling)")
        let stuck = await listener.collect(for: .seconds(1))
        #expect(pings(stuck) == 0, "pings while stuck: \(stuck)")

        progress.resume()
        let resumed = await listener.collect(for: .seconds(120)) { pings($0) >= 2 && $0.contains { $0.contains("STATUS=consuming") } }
        #expect(pings(resumed) >= 2, "\(resumed)")
        #expect(resumed.contains { $0.contains("STATUS=consuming lode.work") }, "\(resumed)")
        await group.triggerGracefulShutdown()
        try await tasks.waitForAll()
    }
}
