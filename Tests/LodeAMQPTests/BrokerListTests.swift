import Testing
@testable import LodeAMQP

/// A comma-separated list of broker URLs: the nodes of one cluster, one set of credentials.
@Suite struct BrokerListTests {
    @Test func aListGivesEveryBrokerInOrderWithTheSharedSettings() throws {
        let settings = try ConnectionSettings(
            url: "amqp://lode@mq1:5672/prod?heartbeat=20,amqp://lode@mq2:5673/prod?heartbeat=20,amqp://lode@[::1]/prod?heartbeat=20")
        #expect(settings.brokers == [
            BrokerEndpoint(host: "mq1", port: 5672), BrokerEndpoint(host: "mq2", port: 5673),
            BrokerEndpoint(host: "::1", port: 5672),
        ])
        #expect(settings.host == "mq1")
        #expect(settings.port == 5672)
        #expect(settings.user == "lode")
        #expect(settings.vhost == "prod")
        #expect(settings.heartbeat == 20)
        #expect(!settings.urlHadPassword)
    }

    @Test func oneURLIsAListOfOne() throws {
        let settings = try ConnectionSettings(url: "amqp://h:5673/v")
        #expect(settings.brokers == [BrokerEndpoint(host: "h", port: 5673)])
        #expect(settings.redactedURL == "amqp://guest@h:5673/v")
    }

    @Test func spacesAroundTheCommasAreAllowed() throws {
        let settings = try ConnectionSettings(url: "amqp://a , amqp://b ")
        #expect(settings.brokers.map(\.host) == ["a", "b"])
    }

    @Test func theSchemeDecidesWhereAURLBeginsSoACommaInAPasswordStays() throws {
        let settings = try ConnectionSettings(url: "amqp://u:pa,ss@h1,AMQP://u:pa,ss@h2")
        #expect(settings.brokers.map(\.host) == ["h1", "h2"])
        #expect(settings.password == "pa,ss")
        #expect(settings.urlHadPassword)
    }

    @Test func aPasswordInAnyURLOfTheListCounts() throws {
        // The settings refuse a --url holding a password: every URL of the list is looked at.
        let settings = try ConnectionSettings(url: "amqp://u:secret@h1,amqp://u:secret@h2")
        #expect(settings.urlHadPassword)
    }

    @Test func theRedactedListShowsEveryBrokerAndNoPassword() throws {
        let settings = try ConnectionSettings(url: "amqp://u:s3cr3t-PW@h1:5730/%2F,amqp://u:s3cr3t-PW@h2:5731/%2F")
        #expect(settings.redactedURL == "amqp://u@h1:5730/%2F,amqp://u@h2:5731/%2F")
        #expect(settings.redactedURL(of: settings.brokers[1]) == "amqp://u@h2:5731/%2F")
        for text in [settings.redactedURL, settings.description, "\(settings)", String(reflecting: settings)] {
            #expect(!text.contains("s3cr3t"), "\(text)")
        }
        // And it parses back to the same brokers.
        #expect(try ConnectionSettings(url: settings.redactedURL).brokers == settings.brokers)
    }

    @Test(arguments: [
        ("amqp://a,amqps://b", "scheme"),
        ("amqp://u@a,amqp://v@b", "user"),
        ("amqp://u:p@a,amqp://u:q@b", "password"),
        ("amqp://u:p@a,amqp://u@b", "password"),
        ("amqp://a/x,amqp://b/y", "vhost"),
        ("amqp://a?heartbeat=5,amqp://b", "heartbeat"),
        ("amqps://a?cacertfile=/x.pem,amqps://b", "cacertfile"),
        ("amqp://a?connection_name=one,amqp://b?connection_name=two", "connection_name"),
    ])
    func brokersThatDifferInMoreThanHostAndPortAreRefused(url: String, difference: String) {
        let message = settingsMessage(settingsError(url))
        #expect(message.contains("broker 2 of 2 in the URL list differs from broker 1 in its \(difference)"), "\(message)")
        #expect(message.contains("only host and port differ"))
    }

    @Test func aDifferingPasswordIsNamedNeverShown() {
        let message = settingsMessage(settingsError("amqp://u:first-S3CRET@a,amqp://u:second-S3CRET@b"))
        #expect(message.contains("password"))
        #expect(!message.contains("S3CRET"))
    }

    @Test func aRepeatedBrokerIsRefused() {
        let message = settingsMessage(settingsError("amqp://a:5672,amqp://b,amqp://a"))
        #expect(message == "broker 3 of 3 in the URL list repeats broker 1 (a:5672)")
    }

    @Test func aBadURLInTheListIsNamedByItsPlace() {
        let message = settingsMessage(settingsError("amqp://a,amqp://b:99999"))
        #expect(message.hasPrefix("broker 2 of 2 in the URL list: the port in the broker URL must be a number"), "\(message)")
    }

    @Test func hostsWithoutTheirOwnSchemeAreRefusedWithTheFormToUse() {
        for url in ["amqp://u@h1,h2:5673/v", "amqp://h1,h2", "amqp://h1,"] {
            let message = settingsMessage(settingsError(url))
            #expect(message.contains("give each broker of a cluster a whole URL"), "\(url): \(message)")
        }
    }

    @Test func anEmptyElementIsRefused() {
        #expect(!settingsMessage(settingsError("amqp://a,,amqp://b")).isEmpty)
    }
}

/// The order in which brokers are tried: first that answers, the lost one last.
@Suite struct FailoverOrderTests {
    /// The candidates of one round, until the order says to wait.
    func round(_ order: inout FailoverOrder) -> [Int] {
        var tried: [Int] = []
        while let next = order.nextCandidate() { tried.append(next) }
        return tried
    }

    @Test func theFirstConnectionTriesTheBrokersInTheOrderGiven() {
        var order = FailoverOrder(brokers: 3)
        #expect(round(&order) == [0, 1, 2])
        #expect(order.nextCandidate() == nil, "after a failed round: wait before the next")
        order.beginRound()
        #expect(round(&order) == [0, 1, 2])
    }

    @Test func theFirstThatAnswersIsKept() {
        var order = FailoverOrder(brokers: 3)
        #expect(order.nextCandidate() == 0)
        #expect(order.nextCandidate() == 1)
        order.didConnect(to: 1)
        #expect(order.connected == 1)
        #expect(order.nextCandidate() == nil, "no candidate while connected")
    }

    @Test func afterALossTheOthersComeFirstAndTheLostBrokerLast() {
        var order = FailoverOrder(brokers: 3)
        order.didConnect(to: 0)
        order.didLose()
        #expect(order.connected == nil)
        #expect(round(&order) == [1, 2, 0])

        order.didConnect(to: 2)
        order.didLose()
        #expect(round(&order) == [0, 1, 2])
    }

    @Test func aFailedRoundAfterALossStartsAgainAfterTheLostBroker() {
        var order = FailoverOrder(brokers: 3)
        order.didConnect(to: 1)
        order.didLose()
        #expect(round(&order) == [2, 0, 1])
        order.beginRound()
        #expect(round(&order) == [2, 0, 1])
    }

    @Test func aLossInTheMiddleOfARoundStartsAFullRound() {
        var order = FailoverOrder(brokers: 3)
        #expect(order.nextCandidate() == 0)
        #expect(order.nextCandidate() == 1)
        order.didConnect(to: 1)
        order.didLose()
        #expect(round(&order) == [2, 0, 1])
    }

    @Test func oneBrokerIsTriedOncePerRound() {
        var order = FailoverOrder(brokers: 1)
        #expect(round(&order) == [0])
        order.beginRound()
        #expect(round(&order) == [0])
        order.didConnect(to: 0)
        order.didLose()
        #expect(round(&order) == [0])
    }

    @Test func anEmptyListStillTriesOne() {
        var order = FailoverOrder(brokers: 0)
        #expect(round(&order) == [0])
    }

    @Test func aLossWithoutAConnectionChangesNothingButTheRound() {
        var order = FailoverOrder(brokers: 2)
        #expect(order.nextCandidate() == 0)
        order.didLose()
        #expect(round(&order) == [0, 1])
    }
}
