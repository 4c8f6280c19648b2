import LodeWorker
import Testing

@Suite("The worker's options")
struct WorkerOptionsTests {
    @Test func defaultsHoldATransactionToFiveThousandEventsOrFiftyMilliseconds() {
        let options = WorkerOptions()
        #expect(options.prefetch == 1000)
        #expect(options.transactionEvents == 5000)
        #expect(options.transactionWindow == .milliseconds(50))
        #expect(options.stallTimeout == .seconds(30))
    }

    @Test func theConsumerSharesThePrefetchAmongTheBatchesInHandAndTakesNoMoreThanATransaction() {
        var options = WorkerOptions()
        options.prefetch = 1000
        options.transactionEvents = 200
        // Each message holds at least one event, so a batch of 200 messages never needs more
        // than one transaction of single events.
        #expect(options.consumerOptions().maxBatch == 200)
        options.transactionEvents = 5000
        #expect(options.consumerOptions().batchesInHand == 2)
        #expect(options.consumerOptions().maxBatch == 500)
        #expect(options.consumerOptions().batchWindow == .milliseconds(50))
        // A store that defers its syncs: one batch decoded, one applied, one waiting for its fsync.
        #expect(options.consumerOptions(syncing: true).batchesInHand == 3)
        #expect(options.consumerOptions(syncing: true).maxBatch == 333)
    }
}
