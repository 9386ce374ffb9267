/// The outcome of a `Range` request header against a file of known size (RFC 9110 §14).
public enum ByteRange: Sendable, Equatable {
    /// No usable range: send the whole file with 200. Also for malformed or multi-range headers,
    /// which RFC 9110 allows a server to ignore.
    case whole
    /// Send these bytes with 206.
    case partial(ClosedRange<Int>)
    /// No byte of the file is in the range: 416.
    case unsatisfiable

    /// Interprets `header` (e.g. `bytes=0-99`, `bytes=100-`, `bytes=-500`) for a file of `size` bytes.
    public static func parse(_ header: String?, size: Int) -> ByteRange {
        guard let header else { return .whole }
        let trimmed = header[...].trimmingWhitespace()
        guard trimmed.hasPrefix("bytes=") else { return .whole }
        let spec = trimmed.dropFirst("bytes=".count).trimmingWhitespace()
        guard !spec.contains(","), let dash = spec.firstIndex(of: "-") else { return .whole }
        let first = spec[..<dash].trimmingWhitespace()
        let last = spec[spec.index(after: dash)...].trimmingWhitespace()
        switch (Int(decimal: first), Int(decimal: last)) {
        case (let start?, let end?):
            guard start <= end else { return .whole }
            guard start < size else { return .unsatisfiable }
            return .partial(start...min(end, size - 1))
        case (let start?, nil) where last.isEmpty:
            guard start < size else { return .unsatisfiable }
            return .partial(start...(size - 1))
        case (nil, let suffix?) where first.isEmpty:
            guard suffix > 0, size > 0 else { return .unsatisfiable }
            return .partial(max(0, size - suffix)...(size - 1))
        default:
            return .whole
        }
    }
}

extension Int {
    /// Parses only ASCII digits (no sign, no spaces), refusing values that overflow.
    fileprivate init?(decimal text: Substring) {
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let value = Int(text) else { return nil }
        self = value
    }
}

extension Substring {
    fileprivate func trimmingWhitespace() -> Substring {
        guard let start = firstIndex(where: { $0 != " " && $0 != "\t" }),
            let end = lastIndex(where: { $0 != " " && $0 != "\t" })
        else { return self[endIndex...] }
        return self[start...end]
    }
}
