import Foundation
import LodeEvents
import LodeNotifications
import Testing

@Suite("HMAC-SHA256, base64 and percent-encoding")
struct SigningTests {
    /// RFC 4231 section 4 (test case 5, a truncated output, does not apply).
    static let rfc4231: [(key: [UInt8], data: [UInt8], mac: String)] = [
        ([UInt8](repeating: 0x0b, count: 20), Array("Hi There".utf8),
         "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
        (Array("Jefe".utf8), Array("what do ya want for nothing?".utf8),
         "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
        ([UInt8](repeating: 0xaa, count: 20), [UInt8](repeating: 0xdd, count: 50),
         "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"),
        ([UInt8](hex: "0102030405060708090a0b0c0d0e0f10111213141516171819"), [UInt8](repeating: 0xcd, count: 50),
         "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"),
        ([UInt8](repeating: 0xaa, count: 131), Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8),
         "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
        ([UInt8](repeating: 0xaa, count: 131),
         Array("This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.".utf8),
         "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"),
    ]

    @Test(arguments: 0..<6) func hmacMatchesTheRFC4231Vectors(_ index: Int) {
        let vector = Self.rfc4231[index]
        #expect(HMACSHA256.authenticationCode(for: vector.data, key: vector.key).hex == vector.mac)
    }

    @Test func aKeyOfExactlyOneBlockIsUsedAsIs() {
        // Computed with Python's hmac module: hmac.new(b"k" * 64, b"message", sha256).
        #expect(HMACSHA256.authenticationCode(for: "message", key: String(repeating: "k", count: 64)).hex
            == "890f3a16e0ca0aaa3bf180f70fa8e3970b3fd6505e98fde157988dcc19d1685c")
    }

    @Test func constantTimeComparisonComparesWholeCodes() {
        #expect(HMACSHA256.constantTimeEquals([1, 2, 3], [1, 2, 3]))
        #expect(!HMACSHA256.constantTimeEquals([1, 2, 3], [1, 2, 4]))
        #expect(!HMACSHA256.constantTimeEquals([1, 2, 3], [1, 2]))
    }

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
