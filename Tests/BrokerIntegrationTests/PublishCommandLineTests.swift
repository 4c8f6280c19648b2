import Foundation
import LodeTestSupport
import Testing

/// lode-publish as a process, where no broker is needed: usage, bad input, an unreachable
/// broker. (Tests that publish to the broker run in `BrokerTests`, serialized with the tests
/// that restart it.)
@Suite("lode-publish on the command line")
struct CommandLineTests {
    @Test func anUnreachableBrokerExits69AndSaysNothingWasPublished() async throws {
        let input = try PublishProcess.file(publishedEventLine(1) + "\n", extension: "ndjson")
        defer { unlink(input) }
        let port = unusedPort()
        let outcome = try await PublishProcess.run(["--url", "amqp://guest@127.0.0.1:\(port)/%2F", input])
        #expect(outcome.status == 69)
        #expect(outcome.stderr.contains("nothing was published"))
        #expect(outcome.stderr.contains("127.0.0.1:\(port)"))
    }

    @Test func aPasswordInTheURLFlagExits64WithoutEchoingIt() async throws {
        let outcome = try await PublishProcess.run(["--url", "amqp://bob:Tr0ub4dor@127.0.0.1/%2F", "--check", "-"])
        #expect(outcome.status == 64)
        #expect(!outcome.stderr.contains("Tr0ub4dor"))
        #expect(outcome.stderr.contains("LODE_AMQP_PASSWORD"))
    }

    @Test func invalidCSVExits65WithFileAndLineOfEachProblem() async throws {
        let csv = "project_id,status,time\r\nBT-1,started,2024-05-05T10:00:00+08:00\r\nBT-2,strted,2024-05-05T10:00:00+08:00\r\nBT-3,started,\r\n"
        let input = try PublishProcess.file(csv, extension: "csv")
        defer { unlink(input) }
        // --url to a dead port: validation must fail before any connection is tried.
        let outcome = try await PublishProcess.run(
            ["--type", "project-status", "--url", "amqp://guest@127.0.0.1:\(unusedPort())/", input])
        #expect(outcome.status == 65)
        #expect(outcome.stderr.contains("\(input):3: status: 'strted' is not a status; the statuses are 已签约 (signed)"))
        #expect(outcome.stderr.contains("\(input):4: time:"))
    }

    @Test func checkValidatesOnlyAndPrintsAJSONSummary() async throws {
        let input = try PublishProcess.file((1...20).map { publishedEventLine($0) }.joined(separator: "\n"), extension: "ndjson")
        defer { unlink(input) }
        let outcome = try await PublishProcess.run(["--check", "--json", input])
        #expect(outcome.status == 0)
        let summary = try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any]
        #expect(summary?["published"] as? Int == 0)
        #expect(summary?["errors"] as? Int == 0)
        #expect(summary?["valid"] as? Int == 20)
        #expect(summary?["seconds"] is Double)
    }

    @Test func stdinIsReadWithADash() async throws {
        let input = try PublishProcess.file(publishedEventLine(1) + "\n{broken\n", extension: "ndjson")
        defer { unlink(input) }
        let outcome = try await PublishProcess.run(["--check", "-"], stdin: input)
        #expect(outcome.status == 65)
        #expect(outcome.stderr.contains("<stdin>:2:"))
    }

    @Test func oneEventFromFlagsIsValidated() async throws {
        let good = try await PublishProcess.run(["project-status", "--project", "BT-17", "--status", "started", "--check"])
        #expect(good.status == 0)
        let bad = try await PublishProcess.run(["project-status", "--project", "BT 17", "--status", "begun", "--check"])
        #expect(bad.status == 65)
        #expect(bad.stderr.contains("project_id"))
        #expect(bad.stderr.contains("status"))
    }

    @Test func helpShowsAWorkedExampleForEachInputKind() async throws {
        let outcome = try await PublishProcess.run(["--help"])
        #expect(outcome.status == 0)
        #expect(outcome.stdout.contains("lode-publish events.ndjson"))
        #expect(outcome.stdout.contains("lode-publish --type project-status status.csv"))
        #expect(outcome.stdout.contains("lode-publish project-status --project BT-17 --status started"))
    }

    @Test func aCSVFileWithoutTypeOrATypeColumnSaysHowToNameIt() async throws {
        let input = try PublishProcess.file("project_id,status,time\nBT-1,started,2024-05-05 10:00\n", extension: "csv")
        defer { unlink(input) }
        let outcome = try await PublishProcess.run(["--check", input])
        #expect(outcome.status == 65)
        #expect(outcome.stderr.contains("\(input):1: the sheet holds no 'type' (事件类型) column and no --type was given"))
        // With a type column, several types in one file.
        let mixed = try PublishProcess.file("""
            事件类型,项目编号,状态,企业名称,招商行动,时间
            项目状态,BT-1,已开工,,,2024/5/5 10:00
            实地考察,,,北方稀土,百日攻坚,2024/5/6 9:00

            """, extension: "csv")
        defer { unlink(mixed) }
        let checked = try await PublishProcess.run(["--check", "--json", mixed])
        #expect(checked.status == 0, "\(checked.stderr)")
        #expect(checked.stdout.contains(#""valid":2"#))
    }
}
