import Testing
@testable import LodeEvents

@Suite("Event time (RFC 3339)")
struct EventTimeTests {
    func parse(_ text: String) throws(EventTimeError) -> EventTime { try EventTime(parsing: text) }

    func failure(_ text: String) -> String? {
        do {
            _ = try EventTime(parsing: text)
            return nil
        } catch {
            return error.message
        }
    }

    @Test func sameInstantWrittenWithDifferentOffsetsComparesEqual() throws {
        let shanghai = try parse("2024-05-05T10:00:00+08:00")
        let utc = try parse("2024-05-05T02:00:00Z")
        let newYork = try parse("2024-05-04T22:00:00-04:00")
        #expect(shanghai.instant == utc.instant)
        #expect(newYork.instant == utc.instant)
        #expect(utc.instant.secondsSinceEpoch == 1_714_874_400)
        #expect(shanghai.utcOffsetSeconds == 8 * 3600)
        #expect(newYork.utcOffsetSeconds == -4 * 3600)
        #expect(shanghai.text == "2024-05-05T10:00:00+08:00")
    }

    @Test func acceptsLowerCaseTAndZAndHalfHourOffsets() throws {
        #expect(try parse("2024-05-05t02:00:00z").instant == parse("2024-05-05T02:00:00Z").instant)
        #expect(try parse("2024-05-05T07:30:00+05:30").instant == parse("2024-05-05T02:00:00Z").instant)
    }

    @Test func keepsFractionalSecondsToTheNanosecond() throws {
        #expect(try parse("2024-05-05T02:00:00.5Z").instant.nanoseconds == 500_000_000)
        #expect(try parse("2024-05-05T02:00:00.123456789Z").instant.nanoseconds == 123_456_789)
        #expect(try parse("2024-05-05T02:00:00.1234567891234Z").instant.nanoseconds == 123_456_789)
        #expect(try parse("2024-05-05T02:00:00.25Z").instant > parse("2024-05-05T02:00:00.2Z").instant)
    }

    @Test func refusesATimeWithoutOffsetAndSaysSo() {
        #expect(failure("2024-05-05T10:00:00")
            == "expected an RFC 3339 time with a UTC offset (Z or ±hh:mm), found '2024-05-05T10:00:00', which has no offset")
        #expect(failure("2024-05-05T10:00:00.5")?.hasSuffix("which has no offset") == true)
    }

    @Test func refusesADateOnlyAndASpaceSeparator() {
        #expect(failure("2024-05-05")?.contains("a date only") == true)
        #expect(failure("2024-05-05 10:00:00+08:00")?.contains("write 'T' between the date and the time of day") == true)
    }

    @Test func refusesMonth13() {
        #expect(failure("2024-13-01T00:00:00Z") == "month 13 is out of range (01–12) in '2024-13-01T00:00:00Z'")
        #expect(failure("2024-00-01T00:00:00Z") != nil)
    }

    @Test func refusesDay32AndDaysMonthsDoNotHave() {
        #expect(failure("2024-01-32T00:00:00Z")
            == "day 32 does not exist in 2024-01 (it has 31 days) in '2024-01-32T00:00:00Z'")
        #expect(failure("2024-04-31T00:00:00Z") != nil)
        #expect(failure("2024-01-00T00:00:00Z") != nil)
    }

    @Test func acceptsFebruary29OnlyInLeapYears() throws {
        _ = try parse("2024-02-29T12:00:00Z")
        _ = try parse("2000-02-29T12:00:00Z")
        #expect(failure("2023-02-29T12:00:00Z")
            == "day 29 does not exist in 2023-02 (it has 28 days) in '2023-02-29T12:00:00Z'")
        #expect(failure("1900-02-29T12:00:00Z") != nil)
    }

    @Test func refusesOutOfRangeClockAndOffsetFields() {
        #expect(failure("2024-05-05T24:00:00Z")?.hasPrefix("hour 24 is out of range") == true)
        #expect(failure("2024-05-05T10:60:00Z")?.hasPrefix("minute 60 is out of range") == true)
        #expect(failure("2024-05-05T10:00:61Z")?.hasPrefix("second 61 is out of range") == true)
        #expect(failure("2024-05-05T10:00:00+24:00")?.hasPrefix("UTC offset out of range") == true)
        #expect(failure("2024-05-05T10:00:00+0800") != nil)
        #expect(failure("2024-05-05T10:00:00.Z") != nil)
        #expect(failure("2024-05-05T10:00:00Zjunk") != nil)
        #expect(failure("") != nil)
        #expect(failure(String(repeating: "9", count: 100))?.contains("a text of 100 bytes") == true)
    }

    @Test func acceptsALeapSecondAsTheFirstSecondOfTheNextMinute() throws {
        let leap = try parse("2016-12-31T23:59:60Z")
        #expect(leap.instant == (try parse("2017-01-01T00:00:00Z")).instant)
    }

    @Test func handlesDatesBeforeTheEpoch() throws {
        #expect(try parse("1969-12-31T23:59:59Z").instant.secondsSinceEpoch == -1)
        #expect(try parse("1900-01-01T00:00:00Z").instant.secondsSinceEpoch == -2_208_988_800)
    }

    @Test func writesAnInstantAtAnOffset() throws {
        let instant = try parse("2024-05-05T02:00:00.25Z").instant
        #expect(try EventTime(instant: instant, utcOffsetMinutes: 480).text == "2024-05-05T10:00:00.25+08:00")
        #expect(try EventTime(instant: instant).text == "2024-05-05T02:00:00.25Z")
        #expect(try EventTime(instant: EventInstant(secondsSinceEpoch: -1), utcOffsetMinutes: -90).text
            == "1969-12-31T22:29:59-01:30")
        #expect(throws: EventTimeError.self) { try EventTime(instant: instant, utcOffsetMinutes: 1440) }
    }
}

@Suite("Zone calendar")
struct ZoneCalendarTests {
    let shanghai = try! ZoneCalendar()

    func month(_ text: String, in calendar: ZoneCalendar? = nil) throws -> YearMonth {
        (calendar ?? shanghai).yearMonth(of: try EventTime(parsing: text))
    }

    @Test func defaultsToAsiaShanghai() {
        #expect(shanghai.timeZoneIdentifier == "Asia/Shanghai")
    }

    @Test func countsAUTCEveningInTheNextDaysMonthInShanghai() throws {
        #expect(try month("2024-04-30T15:59:59Z") == YearMonth(year: 2024, month: 4))
        #expect(try month("2024-04-30T16:00:00Z") == YearMonth(year: 2024, month: 5))
    }

    @Test func countsTheLastHoursOfADecemberUTCInTheNewYearInShanghai() throws {
        #expect(try month("2023-12-31T16:30:00Z") == YearMonth(year: 2024, month: 1))
        #expect(try month("2023-12-31T15:59:59Z") == YearMonth(year: 2023, month: 12))
        #expect(try month("2024-01-01T00:10:00+08:00") == YearMonth(year: 2024, month: 1))
        #expect(try month("2023-12-31T23:30:00-05:00") == YearMonth(year: 2024, month: 1))
    }

    @Test func usesTheConfiguredZone() throws {
        let utc = try ZoneCalendar(timeZoneIdentifier: "UTC")
        #expect(try month("2023-12-31T16:30:00Z", in: utc) == YearMonth(year: 2023, month: 12))
        let newYork = try ZoneCalendar(timeZoneIdentifier: "America/New_York")
        #expect(try month("2024-01-01T03:00:00Z", in: newYork) == YearMonth(year: 2023, month: 12))
    }

    @Test func refusesAnUnknownTimeZone() {
        #expect(throws: ZoneCalendarError(timeZoneIdentifier: "Mars/Olympus_Mons")) {
            try ZoneCalendar(timeZoneIdentifier: "Mars/Olympus_Mons")
        }
        #expect(throws: ZoneCalendarError.self) { try ZoneCalendar(timeZoneIdentifier: "") }
    }

    /// The offset table must agree with Foundation everywhere, DST eras
    /// included (Shanghai had DST 1986–1991).
    @Test(arguments: ["Asia/Shanghai", "America/New_York", "Europe/London", "Australia/Lord_Howe", "UTC"])
    func offsetTableAgreesWithFoundation(identifier: String) throws {
        let calendar = try ZoneCalendar(timeZoneIdentifier: identifier)
        let zone = TimeZoneOracle(identifier: identifier)
        var mismatches: [Int64] = []
        var seconds: Int64 = -2_208_988_800
        // Steps of a little over two and three days, so samples fall at
        // every hour of the day over the years.
        var step: Int64 = 86_400 * 3 + 3_607
        while seconds < 4_102_444_800 {
            if calendar.utcOffsetSeconds(at: EventInstant(secondsSinceEpoch: seconds)) != zone.offset(at: seconds) {
                mismatches.append(seconds)
            }
            seconds += step
            step = step == 86_400 * 3 + 3_607 ? 86_400 * 2 + 1_801 : 86_400 * 3 + 3_607
        }
        #expect(mismatches.isEmpty, "\(identifier) differs at \(mismatches.prefix(5))")
    }

    @Test func switchesOffsetExactlyAtADaylightSavingTransition() throws {
        let newYork = try ZoneCalendar(timeZoneIdentifier: "America/New_York")
        let springForward: Int64 = 1_710_054_000  // 2024-03-10T07:00:00Z, 02:00 EST becomes 03:00 EDT
        #expect(newYork.utcOffsetSeconds(at: EventInstant(secondsSinceEpoch: springForward - 1)) == -5 * 3600)
        #expect(newYork.utcOffsetSeconds(at: EventInstant(secondsSinceEpoch: springForward)) == -4 * 3600)
        let shanghaiSummer1990 = try EventTime(parsing: "1990-07-01T00:00:00Z")
        #expect(shanghai.utcOffsetSeconds(at: shanghaiSummer1990.instant) == 9 * 3600)
    }

    @Test func anInvestmentReportCountsInItsPeriodAndOtherEventsInTheirTime() throws {
        let report = try Event.decode(Fixtures.body(
            Fixtures.envelope(.investmentReported, time: "2024-05-03T09:00:00+08:00")))
        #expect(shanghai.reportingMonth(of: report) == YearMonth(year: 2024, month: 4))
        let visit = try Event.decode(Fixtures.body(Fixtures.envelope(.siteVisit, time: "2023-12-31T16:30:00Z")))
        #expect(shanghai.reportingMonth(of: visit) == YearMonth(year: 2024, month: 1))
    }
}
