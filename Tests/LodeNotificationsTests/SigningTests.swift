import Crypto
import Foundation
import LodeEvents
import LodeNotifications
import Testing

@Suite("Signatures (HMAC-SHA256 from swift-crypto), base64 and percent-encoding")
struct SigningTests {
    @Test func percentEncodingKeepsOnlyUnreservedCharacters() {
        #expect(PercentEncoding.queryValue("aZ09-._~") == "aZ09-._~")
        #expect(PercentEncoding.queryValue("a+b/c=") == "a%2Bb%2Fc%3D")
        #expect(PercentEncoding.queryValue("签 约") == "%E7%AD%BE%20%E7%BA%A6")
    }

    @Test func dingTalkSignMatchesAnIndependentComputation() {
        // Computed with Python: base64(hmac.new(secret, f"{ts}\n{secret}", sha256).digest()), then quote_plus.
        let secret = "SECb6f0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0"
        let sign = ChannelConfiguration.dingTalkSign(timestamp: "1700000000123", secret: secret)
        #expect(sign == "RM6vcYCa/DC8lGNwg4qs7bKxCSKAg8CXrP67XxmACh8=")
        #expect(PercentEncoding.queryValue(sign) == "RM6vcYCa%2FDC8lGNwg4qs7bKxCSKAg8CXrP67XxmACh8%3D")
    }

    @Test func webhookSignatureIsOverTimestampDotBody() {
        // Computed with Python: hmac.new(b"whsec-test", b"1700000000." + body, sha256).hexdigest().
        let signature = ChannelConfiguration.webhookSignature(timestamp: "1700000000", body: Array(#"{"a":1}"#.utf8), secret: "whsec-test")
        #expect(signature == "sha256=fed7a1a6c799a6367d73724d76bc70c16678908a32a879cd1ded6565ac05cece")
    }

    @Test func aSecretNeverPrints() {
        let secret = SecretText("hunter2")
        #expect("\(secret)" == "<secret>")
        #expect(String(reflecting: secret) == "<secret>")
        var dumped = ""
        dump(secret, to: &dumped)
        #expect(!dumped.contains("hunter2"))
        #expect(secret.revealed == "hunter2")
    }
}
