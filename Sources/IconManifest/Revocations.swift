import Foundation
import IconCore
public import IconPKI
public import X509

/// The revocation lists a machine holds, the newest of each issuer, and what they revoke.
///
/// A machine takes a list only when a certificate of a chain it verified signed it, keeps it
/// (``encoded()``, on BOOT beside its images) and from then on refuses every manifest whose
/// signer or intermediate it revokes, whether or not that manifest carries the list: leaving
/// the list out does not help an attacker. A list with a lower CRL number than the one held
/// for its issuer is ignored, so an old list cannot bring a certificate back.
public struct Revocations: Sendable, Equatable {
    /// The lists, one per issuer.
    public private(set) var lists: [RevocationList]

    /// The most lists a wrapper may carry, and a machine keep.
    public static let maxLists = 4

    public init(lists: [RevocationList] = []) {
        self.lists = lists
    }

    /// No lists: nothing is revoked.
    public static let none = Revocations()

    /// Takes `candidate` when `issuer` signed it and it is newer than the list held for that
    /// issuer. Returns whether anything changed.
    @discardableResult
    public mutating func take(_ candidate: RevocationList, signedBy issuer: Certificate) -> Bool {
        guard candidate.isSigned(by: issuer) else { return false }
        if let index = lists.firstIndex(where: { $0.issuer == candidate.issuer }) {
            guard candidate.number > lists[index].number else { return false }
            lists[index] = candidate
            return true
        }
        guard lists.count < Self.maxLists else { return false }
        lists.append(candidate)
        return true
    }

    /// Takes every list among `candidates` that a certificate of `chain` (leaf to root) signed.
    @discardableResult
    public mutating func take(_ candidates: [RevocationList], chain: [Certificate]) -> Bool {
        var changed = false
        for candidate in candidates {
            for issuer in chain where issuer.subject == candidate.issuer {
                changed = take(candidate, signedBy: issuer) || changed
            }
        }
        return changed
    }

    /// The first certificate of `chain` (leaf to root) that a held list of its issuer revokes,
    /// with that list. A list counts only if the issuer in `chain` signed it.
    public func revoked(in chain: [Certificate]) -> (certificate: Certificate, list: RevocationList)? {
        for (index, certificate) in chain.enumerated().dropLast() {
            let issuer = chain[index + 1]
            for list in lists where list.issuer == issuer.subject && list.revokes(certificate) && list.isSigned(by: issuer) {
                return (certificate, list)
            }
        }
        return nil
    }

    /// The lists as PEM, one after another: what a machine stores.
    public func encoded() -> String {
        lists.map(\.pemString).joined()
    }

    /// Parses stored or carried lists: PEM `X509 CRL` blocks, one after another.
    ///
    /// - Throws: `.malformed` naming `source`.
    public static func parse(_ text: String, source: String) throws -> [RevocationList] {
        let marker = "-----END \(RevocationList.pemLabel)-----"
        var lists: [RevocationList] = []
        var rest = Substring(text)
        while let end = rest.range(of: marker) {
            let block = rest[..<end.upperBound]
            lists.append(try RevocationList(pemEncoded: String(block.drop { $0.isWhitespace }), source: source))
            rest = rest[end.upperBound...]
        }
        return lists
    }
}
