import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// One GET to the worker's HTTP endpoints, with an optional bearer token or a raw
/// `Authorization` header, bypassing any proxy: the status, the body and the
/// `WWW-Authenticate` challenge.
public enum HTTPProbe {
    public struct Answer: Sendable {
        public let status: Int
        public let body: String
        public let challenge: String?
    }

    public struct BadURL: Error, CustomStringConvertible {
        public let url: String
        public var description: String { "not a URL: \(url)" }
    }

    public static func get(_ url: String, bearer: String? = nil, authorization: String? = nil) async throws -> Answer {
        guard let target = URL(string: url) else { throw BadURL(url: url) }
        let configuration = URLSessionConfiguration.ephemeral
        configuration.connectionProxyDictionary = [:]
        let session = URLSession(configuration: configuration)
        defer { session.finishTasksAndInvalidate() }
        var request = URLRequest(url: target)
        if let bearer { request.setValue("Bearer \(bearer)", forHTTPHeaderField: "Authorization") }
        if let authorization { request.setValue(authorization, forHTTPHeaderField: "Authorization") }
        let (data, response) = try await session.data(for: request)
        let http = response as? HTTPURLResponse
        return Answer(status: http?.statusCode ?? 0, body: String(decoding: data, as: UTF8.self),
                      challenge: http?.value(forHTTPHeaderField: "WWW-Authenticate"))
    }
}
