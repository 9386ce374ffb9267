import Crypto
public import Foundation

extension FileHasher {
    /// The lowercase hex SHA-256 of `bytes` (e.g. a cache key's canonical text).
    public static func sha256Hex(of bytes: some DataProtocol) -> String {
        SHA256.hash(data: bytes).hexString
    }
}
