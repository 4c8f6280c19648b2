import LodeSettings
import LodeWorker
import Testing

@Suite("The worker's settings: flags over the config file's worker section")
struct WorkerSettingsTests {
    func config(_ yaml: String) throws -> ConfigFile {
        try ConfigFile(path: "lodestone.yaml", yaml: yaml)
    }

    @Test func defaultsHoldATransactionToFiveThousandEventsOrFiftyMilliseconds() throws {
        let options = try WorkerOptions.resolve(flags: WorkerFlags(), config: nil)
        #expect(options.prefetch == 1000)
        #expect(options.transactionEvents == 5000)
        #expect(options.transactionWindow == .milliseconds(50))
    }

    @Test func theConfigFileSetsWhatNoFlagGives() throws {
        let file = try config("worker:\n  prefetch: 200\n  transaction_events: 300\n  transaction_ms: 7\n")
        let options = try WorkerOptions.resolve(flags: WorkerFlags(transactionEvents: 900), config: file)
        #expect(options.prefetch == 200)
        #expect(options.transactionEvents == 900)
        #expect(options.transactionWindow == .milliseconds(7))
    }

    @Test func aBadValueInTheFileNamesItsLine() throws {
        let file = try config("db: x.sqlite\nworker:\n  prefetch: 200\n  transaction_ms: soon\n")
        #expect {
            try WorkerOptions.resolve(flags: WorkerFlags(), config: file)
        } throws: { error in
            let error = error as? SettingsError
            return error?.exitCode == 78 && error?.description.hasPrefix("Config error: lodestone.yaml:4: 'worker.transaction_ms'") == true
        }
    }

    @Test func anUnknownKeyIsReportedWithASuggestion() throws {
        let file = try config("worker:\n  prefech: 200\n")
        #expect {
            try WorkerOptions.resolve(flags: WorkerFlags(), config: file)
        } throws: { error in
            "\(error)".contains("lodestone.yaml:2: unknown key 'worker.prefech' (did you mean 'prefetch'?)")
        }
    }

    @Test func aFlagOutOfRangeIsAUsageError() {
        #expect {
            try WorkerOptions.resolve(flags: WorkerFlags(prefetch: 0), config: nil)
        } throws: { error in
            (error as? SettingsError)?.exitCode == 64 && "\(error)".contains("--prefetch")
        }
    }

    @Test func theConsumerTakesHalfThePrefetchAtOnceAndNoMoreThanATransaction() {
        var options = WorkerOptions()
        options.prefetch = 1000
        options.transactionEvents = 200
        // Each message holds at least one event, so a batch of 200 messages never needs more
        // than one transaction of single events.
        #expect(options.consumerOptions.maxBatch == 200)
        options.transactionEvents = 5000
        #expect(options.consumerOptions.maxBatch == 500)
        #expect(options.consumerOptions.batchWindow == .milliseconds(50))
    }
}

@Suite("The consumer watchdog's setting")
struct StallSettingTests {
    @Test func theStallTimeoutComesFromTheFlagOverTheConfigFileOverThirtySeconds() throws {
        #expect(try WorkerOptions.resolve(flags: WorkerFlags(), config: nil).stallTimeout == .seconds(30))
        let file = try ConfigFile(path: "lodestone.yaml", yaml: "worker:\n  stall_seconds: 45\n")
        #expect(try WorkerOptions.resolve(flags: WorkerFlags(), config: file).stallTimeout == .seconds(45))
        #expect(try WorkerOptions.resolve(flags: WorkerFlags(stallSeconds: 5), config: file).stallTimeout == .seconds(5))
        #expect(throws: SettingsError.self) { try WorkerOptions.resolve(flags: WorkerFlags(stallSeconds: 0), config: nil) }
    }
}
