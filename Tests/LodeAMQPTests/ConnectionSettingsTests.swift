import Testing
@testable import LodeAMQP

/// `ConnectionSettings(url:)` against RabbitMQ's AMQP URI spec.
@Suite struct ConnectionSettingsTests {
    // MARK: Scheme, host and port

    @Test func amqpSchemeDefaultsToPort5672WithoutTLS() throws {
        let settings = try ConnectionSettings(url: "amqp://broker.example")
        #expect(!settings.useTLS)
        #expect(settings.host == "broker.example")
        #expect(settings.port == 5672)
    }

    @Test func amqpsSchemeDefaultsToPort5671WithTLS() throws {
        let settings = try ConnectionSettings(url: "amqps://broker.example")
        #expect(settings.useTLS)
        #expect(settings.port == 5671)
        #expect(settings.tls.verifyPeer)
        #expect(settings.tls.verifyHostname)
    }

    @Test func schemeIsCaseInsensitive() throws {
        #expect(try ConnectionSettings(url: "AMQPS://h").useTLS)
        #expect(try !ConnectionSettings(url: "Amqp://h").useTLS)
    }

    @Test func explicitPortWins() throws {
        #expect(try ConnectionSettings(url: "amqps://h:5672").port == 5672)
        #expect(try ConnectionSettings(url: "amqp://h:1").port == 1)
        #expect(try ConnectionSettings(url: "amqp://h:65535").port == 65535)
    }

    @Test func emptyPortMeansTheDefault() throws {
        #expect(try ConnectionSettings(url: "amqp://h:").port == 5672)
        #expect(try ConnectionSettings(url: "amqps://h:/v").port == 5671)
    }

    @Test func emptyHostMeansLocalhost() throws {
        let bare = try ConnectionSettings(url: "amqp://")
        #expect(bare.host == "localhost")
        #expect(bare.port == 5672)
        #expect(bare.vhost == "/")
        #expect(try ConnectionSettings(url: "amqp://:5673").host == "localhost")
        #expect(try ConnectionSettings(url: "amqp://:5673").port == 5673)
        #expect(try ConnectionSettings(url: "amqp://u:p@/v").host == "localhost")
    }

    @Test func hostIsPercentDecoded() throws {
        #expect(try ConnectionSettings(url: "amqp://rabbit%2Dmq.local").host == "rabbit-mq.local")
    }

    @Test func bracketedIPv6HostWithPort() throws {
        let settings = try ConnectionSettings(url: "amqp://[::1]:5673/v")
        #expect(settings.host == "::1")
        #expect(settings.port == 5673)
        #expect(settings.vhost == "v")
        #expect(settings.redactedURL == "amqp://guest@[::1]:5673/v")
    }

    @Test func bracketedIPv6HostWithoutPortTakesTheSchemeDefault() throws {
        let settings = try ConnectionSettings(url: "amqps://user@[fe80::1:2]")
        #expect(settings.host == "fe80::1:2")
        #expect(settings.port == 5671)
        #expect(settings.user == "user")
    }

    @Test func malformedIPv6HostIsRefused() {
        #expect(settingsMessage(settingsError("amqp://[::1")).contains("IPv6"))
        #expect(settingsMessage(settingsError("amqp://[::1]5672")).contains("IPv6"))
    }

    @Test(arguments: ["0", "65536", "99999999999999999999999", "abc", "-1", "56 72", "0x10"])
    func portOutOfRangeOrNotANumberIsRefused(port: String) {
        let error = settingsError("amqp://h:\(port)/v")
        // The port text is not quoted: in a malformed URL it may be the password.
        #expect(error?.kind == .invalidSettings(
            "the port in the broker URL must be a number 1...65535 (a password with ':', '/', '?', '#' or '@' must be percent-encoded)"))
    }

    @Test func httpSchemeIsRefused() {
        let message = settingsMessage(settingsError("http://guest:guest@h/"))
        #expect(message.contains("'http'"))
        #expect(message.contains("amqp://"))
    }

    @Test func urlWithoutSchemeIsRefused() {
        #expect(settingsMessage(settingsError("broker.example:5672")).contains("must start with amqp://"))
        #expect(settingsMessage(settingsError("")).contains("must start with amqp://"))
    }

    @Test func fragmentIsRefused() {
        #expect(settingsMessage(settingsError("amqp://h/v#frag")).contains("fragment"))
    }

    // MARK: Credentials

    @Test func noUserInfoMeansGuestGuest() throws {
        let settings = try ConnectionSettings(url: "amqp://h/v")
        #expect(settings.user == "guest")
        #expect(settings.password == "guest")
        #expect(!settings.urlHadPassword)
    }

    @Test func userWithoutPasswordKeepsTheDefaultPassword() throws {
        let settings = try ConnectionSettings(url: "amqp://alice@h/v")
        #expect(settings.user == "alice")
        #expect(settings.password == "guest")
        #expect(!settings.urlHadPassword)
    }

    @Test func userAndPasswordArePercentDecoded() throws {
        let settings = try ConnectionSettings(url: "amqp://us%40er%3Ax:p%3Ass%2Fw%40rd%25@h/v")
        #expect(settings.user == "us@er:x")
        #expect(settings.password == "p:ss/w@rd%")
        #expect(settings.urlHadPassword)
    }

    @Test func nonASCIICredentialsArePercentDecodedAsUTF8() throws {
        // "用户" and "密码" in UTF-8.
        let settings = try ConnectionSettings(url: "amqp://%E7%94%A8%E6%88%B7:%E5%AF%86%E7%A0%81@h")
        #expect(settings.user == "用户")
        #expect(settings.password == "密码")
    }

    @Test func urlHadPasswordIsSetOnlyWhenThePasswordIsInTheURL() throws {
        #expect(try ConnectionSettings(url: "amqp://u:p@h").urlHadPassword)
        #expect(try !ConnectionSettings(url: "amqp://u@h").urlHadPassword)
        #expect(try !ConnectionSettings(url: "amqp://h").urlHadPassword)
        #expect(try !ConnectionSettings(url: "amqp://").urlHadPassword)
    }

    @Test func emptyPasswordIsKeptEmpty() throws {
        let settings = try ConnectionSettings(url: "amqp://u:@h")
        #expect(settings.user == "u")
        #expect(settings.password == "")
    }

    @Test func badPercentEncodingNamesTheComponent() {
        #expect(settingsMessage(settingsError("amqp://u%zz@h")).contains("user name"))
        #expect(settingsMessage(settingsError("amqp://u:p%4@h")).contains("password"))
        #expect(settingsMessage(settingsError("amqp://h%G1/v")).contains("host"))
        #expect(settingsMessage(settingsError("amqp://h/v%")).contains("vhost"))
        #expect(settingsMessage(settingsError("amqp://u:%FF%FE@h")).contains("not valid UTF-8"))
    }

    // MARK: Vhost

    @Test func noPathMeansTheDefaultVhost() throws {
        #expect(try ConnectionSettings(url: "amqp://h").vhost == "/")
        #expect(try ConnectionSettings(url: "amqp://h:5672").vhost == "/")
        #expect(try ConnectionSettings(url: "amqp://h?heartbeat=5").vhost == "/")
    }

    @Test func bareSlashMeansTheEmptyVhostName() throws {
        #expect(try ConnectionSettings(url: "amqp://h/").vhost == "")
        #expect(try ConnectionSettings(url: "amqp://h/?heartbeat=5").vhost == "")
    }

    @Test func encodedSlashIsTheDefaultVhost() throws {
        #expect(try ConnectionSettings(url: "amqp://h/%2F").vhost == "/")
        #expect(try ConnectionSettings(url: "amqp://h/%2f").vhost == "/")
        #expect(try ConnectionSettings(url: ConnectionSettings.defaultURL).vhost == "/")
    }

    @Test func pathSegmentIsTheVhost() throws {
        #expect(try ConnectionSettings(url: "amqp://h/prod").vhost == "prod")
        #expect(try ConnectionSettings(url: "amqp://h/a%2Fb").vhost == "a/b")
        #expect(try ConnectionSettings(url: "amqp://h/%E7%94%9F%E4%BA%A7").vhost == "生产")
    }

    @Test func vhostWithTwoPathSegmentsIsRefused() {
        #expect(settingsMessage(settingsError("amqp://h/a/b")).contains("%2F"))
        #expect(settingsMessage(settingsError("amqp://h//")).contains("one path segment"))
    }

    @Test func defaultURLParses() throws {
        let settings = try ConnectionSettings(url: ConnectionSettings.defaultURL)
        #expect(settings.host == "127.0.0.1")
        #expect(settings.port == 5672)
        #expect(settings.user == "guest")
        #expect(settings.password == "guest")
        #expect(settings.urlHadPassword)
    }

    // MARK: Query parameters

    @Test func defaultsWithoutQuery() throws {
        let settings = try ConnectionSettings(url: "amqps://h")
        #expect(settings.heartbeat == 60)
        #expect(settings.connectionTimeout == .seconds(10))
        #expect(settings.channelMax == 0)
        #expect(settings.frameMax == 131_072)
        #expect(settings.tls.caFile == nil)
        #expect(settings.tls.certificateFile == nil)
        #expect(settings.tls.keyFile == nil)
        #expect(settings.connectionName == nil)
        #expect(settings.stallTimeout == nil)
        #expect(settings.rpcTimeout == .seconds(30))
    }

    @Test func numericQueryParameters() throws {
        let settings = try ConnectionSettings(
            url: "amqp://h/v?heartbeat=30&connection_timeout=2500&channel_max=100&frame_max=8192")
        #expect(settings.heartbeat == 30)
        #expect(settings.connectionTimeout == .milliseconds(2500))
        #expect(settings.channelMax == 100)
        #expect(settings.frameMax == 8192)
    }

    @Test func heartbeatZeroDisablesHeartbeats() throws {
        #expect(try ConnectionSettings(url: "amqp://h?heartbeat=0").heartbeat == 0)
    }

    @Test func numericParameterBounds() throws {
        #expect(try ConnectionSettings(url: "amqp://h?heartbeat=65535").heartbeat == 65535)
        #expect(try ConnectionSettings(url: "amqp://h?connection_timeout=1").connectionTimeout == .milliseconds(1))
        #expect(try ConnectionSettings(url: "amqp://h?connection_timeout=3600000").connectionTimeout == .seconds(3600))
        #expect(try ConnectionSettings(url: "amqp://h?channel_max=65535").channelMax == 65535)
        #expect(try ConnectionSettings(url: "amqp://h?frame_max=4096").frameMax == 4096)
        #expect(try ConnectionSettings(url: "amqp://h?frame_max=2147483647").frameMax == 2_147_483_647)
    }

    @Test func tlsFileParametersArePercentDecoded() throws {
        let settings = try ConnectionSettings(
            url: "amqps://h/v?cacertfile=%2Fetc%2Flode%2Fca.pem&certfile=/etc/lode/client.pem&keyfile=/etc/lode/client%20key.pem")
        #expect(settings.tls.caFile == "/etc/lode/ca.pem")
        #expect(settings.tls.certificateFile == "/etc/lode/client.pem")
        #expect(settings.tls.keyFile == "/etc/lode/client key.pem")
        #expect(settings.vhost == "v")
    }

    @Test func verifyNoneTurnsOffPeerAndHostnameVerification() throws {
        let settings = try ConnectionSettings(url: "amqps://h?verify=verify_none")
        #expect(!settings.tls.verifyPeer)
        #expect(!settings.tls.verifyHostname)
    }

    @Test func verifyPeerKeepsVerificationOn() throws {
        let settings = try ConnectionSettings(url: "amqps://h?verify=verify_peer")
        #expect(settings.tls.verifyPeer)
        #expect(settings.tls.verifyHostname)
    }

    @Test func serverNameIndicationDisableTurnsOffOnlyHostnameVerification() throws {
        let settings = try ConnectionSettings(url: "amqps://h?server_name_indication=disable")
        #expect(settings.tls.verifyPeer)
        #expect(!settings.tls.verifyHostname)
    }

    @Test func connectionNameIsPercentDecoded() throws {
        let settings = try ConnectionSettings(url: "amqp://h?connection_name=lode%20worker%20%231")
        #expect(settings.connectionName == "lode worker #1")
    }

    @Test func emptyQueryAndEmptyPairsAreIgnored() throws {
        #expect(try ConnectionSettings(url: "amqp://h/v?").heartbeat == 60)
        #expect(try ConnectionSettings(url: "amqp://h/v?&&heartbeat=7&").heartbeat == 7)
    }

    @Test func laterParameterWins() throws {
        #expect(try ConnectionSettings(url: "amqp://h?heartbeat=5&heartbeat=9").heartbeat == 9)
    }

    @Test func unknownParameterIsRefusedByName() {
        let message = settingsMessage(settingsError("amqp://h/v?heartbeat=5&hearbeat=10"))
        #expect(message.contains("unknown URL parameter 'hearbeat'"))
        #expect(message.contains("heartbeat, connection_timeout"))
    }

    @Test(arguments: [
        ("heartbeat", "-1", "0...65535"),
        ("heartbeat", "65536", "0...65535"),
        ("heartbeat", "abc", "0...65535"),
        ("heartbeat", "", "0...65535"),
        ("connection_timeout", "0", "1...3600000"),
        ("connection_timeout", "3600001", "1...3600000"),
        ("connection_timeout", "1.5", "1...3600000"),
        ("channel_max", "65536", "0...65535"),
        ("frame_max", "4095", "4096...2147483647"),
        ("frame_max", "2147483648", "4096...2147483647"),
    ])
    func badNumberIsRefusedNamingTheParameterAndRange(name: String, value: String, range: String) {
        let error = settingsError("amqp://h/v?\(name)=\(value)")
        #expect(settingsMessage(error) == "URL parameter '\(name)' must be an integer in \(range), got '\(value)'")
    }

    @Test func parameterWithoutValueIsABadNumber() {
        #expect(settingsMessage(settingsError("amqp://h?heartbeat")).contains("'heartbeat'"))
    }

    @Test func badVerifyValueIsRefused() {
        #expect(settingsMessage(settingsError("amqp://h?verify=maybe")).contains("verify_peer or verify_none"))
    }

    @Test func errorsSayWhatWasBeingDone() {
        let error = settingsError("amqp://h:0")
        #expect(error?.operation == "reading the broker URL")
        #expect(error?.isRetryable == false)
        #expect(error?.isConnectionLost == false)
        #expect(error?.description.hasPrefix("AMQP error while reading the broker URL") == true)
    }

    // MARK: Redaction

    static let password = "s3cr3t-PW"

    /// Whether `text` holds the password, in any letter case (the scheme is lowercased).
    func revealsPassword(_ text: String) -> Bool {
        text.lowercased().contains(Self.password.lowercased())
    }

    /// Every way to get a URL wrong that we could think of, each with the password in it.
    static let refusedURLsWithPassword = [
        "http://u:s3cr3t-PW@h/v",
        "ftp://u:s3cr3t-PW@h",
        "amqpx://u:s3cr3t-PW@h",
        "amqp//u:s3cr3t-PW@h",
        "u:s3cr3t-PW@h:5672",
        "amqp://u:s3cr3t-PW@h:0/v",
        "amqp://u:s3cr3t-PW@h:65536/v",
        "amqp://u:s3cr3t-PW@h:port/v",
        "amqp://u:s3cr3t-PW@h:-5/v",
        "amqp://u:s3cr3t-PW@h/a/b",
        "amqp://u:s3cr3t-PW@h//",
        "amqp://u:s3cr3t-PW@h/v#frag",
        "amqp://u:s3cr3t-PW#@h/v",
        "amqp://u:s3cr3t-PW@[::1",
        "amqp://u:s3cr3t-PW@[::1]x",
        "amqp://u:s3cr3t-PW@[::1]:99999",
        "amqp://u:s3cr3t-PW%zz@h",
        "amqp://u:s3cr3t-PW%@h",
        "amqp://u:s3cr3t-PW%FF@h",
        "amqp://u%zz:s3cr3t-PW@h",
        "amqp://u:s3cr3t-PW@h%zz",
        "amqp://u:s3cr3t-PW@h/%zz",
        "amqp://u:s3cr3t-PW@h/v?nope=1",
        "amqp://u:s3cr3t-PW@h/v?password=1",
        "amqp://u:s3cr3t-PW@h/v?heartbeat=x",
        "amqp://u:s3cr3t-PW@h/v?heartbeat=-1",
        "amqp://u:s3cr3t-PW@h/v?connection_timeout=0",
        "amqp://u:s3cr3t-PW@h/v?channel_max=70000",
        "amqp://u:s3cr3t-PW@h/v?frame_max=1",
        "amqp://u:s3cr3t-PW@h/v?verify=maybe",
        "amqp://u:s3cr3t-PW@h/v?%zz=1",
        "amqp://u:s3cr3t-PW@h/v?heartbeat=%zz",
        "amqps://u:s3cr3t-PW@h/v?cacertfile=%",
    ]

    @Test func noErrorMessageRepeatsThePassword() {
        for url in Self.refusedURLsWithPassword {
            guard let error = settingsError(url) else { continue }
            #expect(!revealsPassword(error.description), "\(url) → \(error.description)")
            #expect(!revealsPassword(settingsMessage(error)), "\(url)")
            #expect(!revealsPassword(error.endpoint), "\(url)")
            #expect(!revealsPassword(error.operation), "\(url)")
            #expect(!revealsPassword(String(reflecting: error)), "\(url)")
        }
    }

    /// A password with an unencoded `/` or `?` (or a URL missing its host) makes the parser read
    /// the password as the port, and the port error quotes it.
    @Test
    func noErrorMessageRepeatsThePasswordWhenThePasswordIsMisreadAsThePort() {
        let urls = [
            "amqp://u:s3cr3t-PW",
            "amqp://u:s3cr3t-PW/",
            "amqp://u:s3cr3t-PW/x@h/v",
            "amqp://u:s3cr3t-PW?x@h/v",
        ]
        for url in urls {
            guard let error = settingsError(url) else { continue }
            #expect(!revealsPassword(error.description), "\(url) → \(error.description)")
        }
    }

    /// A URL that lacks `://` after its scheme but has it further on (in a query value) makes
    /// everything before that the "scheme", which the error quotes.
    @Test
    func noErrorMessageRepeatsThePasswordWhenTheSchemeIsMalformed() {
        let urls = [
            "amqps:/u:s3cr3t-PW@h/v?cacertfile=file:///etc/ca.pem",
            "amqp:u:s3cr3t-PW@h/v?connection_name=http://x",
        ]
        for url in urls {
            guard let error = settingsError(url) else { continue }
            #expect(!revealsPassword(error.description), "\(url) → \(error.description)")
        }
    }

    @Test func descriptionAndRedactedURLNeverShowThePassword() throws {
        let urls = [
            "amqp://u:s3cr3t-PW@h:5672/prod?heartbeat=5&connection_name=lode",
            "amqps://alice:s3cr3t-PW@[::1]:5671/%2F?verify=verify_none",
            "amqp://:s3cr3t-PW@/",
        ]
        for url in urls {
            let settings = try ConnectionSettings(url: url)
            #expect(settings.password == Self.password)
            #expect(!revealsPassword(settings.redactedURL), "\(settings.redactedURL)")
            #expect(!revealsPassword(settings.description))
            #expect(!revealsPassword("\(settings)"))
            #expect(!revealsPassword(String(reflecting: settings)))
        }
    }

    @Test func redactedURLShowsSchemeUserHostPortAndVhost() throws {
        #expect(try ConnectionSettings(url: "amqp://u:p@h/prod").redactedURL == "amqp://u@h:5672/prod")
        #expect(try ConnectionSettings(url: "amqps://h").redactedURL == "amqps://guest@h:5671/%2F")
        #expect(try ConnectionSettings(url: "amqp://h/").redactedURL == "amqp://guest@h:5672/")
        #expect(try ConnectionSettings(url: "amqp://a%20b:p@h/x%20y").redactedURL == "amqp://a%20b@h:5672/x%20y")
    }

    @Test func redactedURLParsesBackToTheSameEndpoint() throws {
        let urls = [
            "amqp://u:p@h/prod", "amqps://h", "amqp://h/", "amqp://h/%2F",
            "amqp://us%40er%3A:p@[::1]:5673/a%2Fb%3Fc", "amqps://用户:p@h/生产",
        ]
        for url in urls {
            let original = try ConnectionSettings(url: url)
            let reparsed = try ConnectionSettings(url: original.redactedURL)
            #expect(reparsed.useTLS == original.useTLS, "\(url)")
            #expect(reparsed.host == original.host, "\(url)")
            #expect(reparsed.port == original.port, "\(url)")
            #expect(reparsed.vhost == original.vhost, "\(url)")
            #expect(reparsed.user == original.user, "\(url)")
            #expect(!reparsed.urlHadPassword, "\(url)")
        }
    }
}

/// Issue 13, item 6: a URL whose user-info is ambiguous is refused, never read as a host; what
/// weakens TLS is said.
@Suite struct ConnectionSettingsSafetyTests {
    @Test(arguments: [
        "amqp://u:1234/x@h", "amqp://u:p/ss@h:5672/vhost", "amqps://u:p?x@h", "amqp://user:pa/ss@broker.example/%2F",
    ])
    func aRawSlashOrQuestionMarkInTheUserInfoIsRefusedWithoutShowingIt(url: String) {
        do {
            let settings = try ConnectionSettings(url: url)
            Issue.record("parsed as host \(settings.host), port \(settings.port), vhost \(settings.vhost)")
        } catch {
            let text = "\(error)"
            #expect(text.contains("percent-encoded"), "\(text)")
            #expect(!text.contains("1234") && !text.contains("pa/ss") && !text.contains("x@h"), "\(text)")
        }
    }

    @Test func theSamePasswordPercentEncodedIsRead() throws {
        let settings = try ConnectionSettings(url: "amqp://u:1234%2Fx@h")
        #expect(settings.user == "u" && settings.password == "1234/x" && settings.host == "h")
    }

    @Test func tlsWithoutVerificationIsWarnedAbout() throws {
        #expect(try ConnectionSettings(url: "amqps://h").warnings.isEmpty)
        #expect(try ConnectionSettings(url: "amqp://h?verify=verify_none").warnings.isEmpty, "no TLS, nothing to verify")
        let none = try ConnectionSettings(url: "amqps://u:secret@h?verify=verify_none").warnings
        #expect(none.count == 1 && none[0].contains("verify_none") && !none[0].contains("secret"))
        let sni = try ConnectionSettings(url: "amqps://h?server_name_indication=disable").warnings
        #expect(sni.count == 1 && sni[0].contains("server_name_indication=disable"))
    }

    @Test func loopbackHostsAreKnown() {
        for host in ["localhost", "127.0.0.1", "127.1.2.3", "::1", "[::1]"] { #expect(isLoopbackHost(host), "\(host)") }
        for host in ["10.0.0.1", "broker", "128.0.0.1", "127.0.0.256", "::2"] { #expect(!isLoopbackHost(host), "\(host)") }
    }
}
