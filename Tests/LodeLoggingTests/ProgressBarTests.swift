import LodeLogging
import Testing

@Suite("Progress bar")
struct ProgressBarTests {
    @Test func showsCountRateAndTimeLeft() {
        let line = ProgressBar.render(done: 45_000, total: 100_000, seconds: 1, width: 10)
        #expect(line == "[####......] 45,000/100,000 events  45,000/s  ETA 2s")
        #expect(!ProgressBar.render(done: 10, total: 10, seconds: 1).contains("ETA"))
    }

    @Test func anEmptyTotalIsAFullBarAndACountPastTheTotalStaysInside() {
        #expect(ProgressBar.render(done: 0, total: 0, seconds: 0, width: 4) == "[####] 0/0 events  0/s")
        #expect(ProgressBar.render(done: 12, total: 10, seconds: 2, width: 4).hasPrefix("[####] 12/10 events"))
    }

    @Test func longWorkShowsMinutesAndHoursLeft() {
        #expect(ProgressBar.render(done: 1, total: 121, seconds: 1).hasSuffix("ETA 2m0s"))
        #expect(ProgressBar.render(done: 1, total: 7201, seconds: 1).hasSuffix("ETA 2h0m"))
    }
}
