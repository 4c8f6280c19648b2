import LodeSettings
import Testing

@Suite("The worker's settings: flags over the config file's worker section")
struct WorkerTuningTests {
    func config(_ yaml: String) throws -> ConfigFile {
        try ConfigFile(path: "lodestone.yaml", yaml: yaml)
    }

    @Test func nothingGivenLeavesTheWorkersDefaults() throws {
        #expect(try WorkerTuning.resolve(flags: WorkerFlags(), config: nil) == WorkerTuning())
    }

    @Test func theConfigFileSetsWhatNoFlagGives() throws {
        let file = try config("worker:\n  prefetch: 200\n  transaction_events: 300\n  transaction_ms: 7\n")
        let tuning = try WorkerTuning.resolve(flags: WorkerFlags(transactionEvents: 900), config: file)
        #expect(tuning.prefetch == 200)
        #expect(tuning.transactionEvents == 900)
        #expect(tuning.transactionMilliseconds == 7)
    }

    @Test func aBadValueInTheFileNamesItsLine() throws {
        let file = try config("db: x.sqlite\nworker:\n  prefetch: 200\n  transaction_ms: soon\n")
        #expect {
            try WorkerTuning.resolve(flags: WorkerFlags(), config: file)
        } throws: { error in
            let error = error as? SettingsError
            return error?.exitCode == 78 && error?.description.hasPrefix("Config error: lodestone.yaml:4: 'worker.transaction_ms'") == true
        }
    }

    @Test func anUnknownKeyIsReportedWithASuggestion() throws {
        let file = try config("worker:\n  prefech: 200\n")
        #expect {
            try WorkerTuning.resolve(flags: WorkerFlags(), config: file)
        } throws: { error in
            "\(error)".contains("lodestone.yaml:2: unknown key 'worker.prefech' (did you mean 'prefetch'?)")
        }
    }

    @Test func aFlagOutOfRangeIsAUsageError() {
        #expect {
            try WorkerTuning.resolve(flags: WorkerFlags(prefetch: 0), config: nil)
        } throws: { error in
            (error as? SettingsError)?.exitCode == 64 && "\(error)".contains("--prefetch")
        }
    }

    @Test func theStallTimeoutComesFromTheFlagOverTheConfigFile() throws {
        #expect(try WorkerTuning.resolve(flags: WorkerFlags(), config: nil).stallSeconds == nil)
        let file = try ConfigFile(path: "lodestone.yaml", yaml: "worker:\n  stall_seconds: 45\n")
        #expect(try WorkerTuning.resolve(flags: WorkerFlags(), config: file).stallSeconds == 45)
        #expect(try WorkerTuning.resolve(flags: WorkerFlags(stallSeconds: 5), config: file).stallSeconds == 5)
        #expect(throws: SettingsError.self) { try WorkerTuning.resolve(flags: WorkerFlags(stallSeconds: 0), config: nil) }
    }
}
