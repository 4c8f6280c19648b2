import ServiceLifecycle

/// The ``NotificationDispatcher`` as a `Service` of the worker's `ServiceGroup`: it sends until
/// graceful shutdown. What is not delivered by then stays pending in the outbox for the next
/// start.
public struct DispatcherService: Service {
    public let dispatcher: NotificationDispatcher

    public init(dispatcher: NotificationDispatcher) {
        self.dispatcher = dispatcher
    }

    public func run() async throws {
        try await cancelWhenGracefulShutdown {
            await dispatcher.run()
        }
    }
}
