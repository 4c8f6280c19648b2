// Fuzzes the config loader (ConfigFile and every section reader of it: amqp, db, timezone,
// metrics, worker, targets, channels, notifications): any file is read or refused with
// `Config error: FILE:LINE: ...` messages; never a trap.
import LodeEvents
import LodeFuzzDriver
import LodeSettings

struct NoFiles: Error {}

@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let yaml = String(decoding: fuzzBytes(data, size), as: UTF8.self)
    let config: ConfigFile
    do throws(SettingsError) {
        config = try ConfigFile(path: "fuzz.yaml", yaml: yaml)
    } catch {
        checkMessages(error)
        return 0
    }
    if let timezone = config.entries["timezone"] { _ = try? ZoneCalendar(timeZoneIdentifier: timezone.value) }
    do throws(SettingsError) { _ = try config.reportTargets() } catch { checkMessages(error) }
    do throws(SettingsError) {
        _ = try config.notificationSettings(environment: ["HOOK": "https://example.invalid/hook"], readFile: { _ in throw NoFiles() })
    } catch {
        checkMessages(error)
    }
    do throws(SettingsError) { _ = try WorkerTuning.resolve(flags: WorkerFlags(), config: config) } catch { checkMessages(error) }
    do throws(SettingsError) { _ = try MetricsAddress.resolve(flag: nil, environment: [:], config: config) } catch { checkMessages(error) }
    return 0
}

func checkMessages(_ error: SettingsError) {
    fuzzCheck(!error.messages.isEmpty, "a SettingsError without a message")
    for message in error.messages where message.hasPrefix("Config error: fuzz.yaml") {
        // `Config error: fuzz.yaml:LINE: ...`: a line number, then the message.
        let rest = message.dropFirst("Config error: fuzz.yaml".count)
        fuzzCheck(rest.hasPrefix(":") || rest.hasPrefix(" "), "a config error without its place: \(message)")
    }
}

runLibFuzzer(testOneInput)
