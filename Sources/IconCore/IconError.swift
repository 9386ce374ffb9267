import Foundation

/// The one error type of Iconograph.
///
/// A code callers can match, a message that names the file, flag, URL or image at fault,
/// an optional underlying cause and the place it was thrown. Printed as `code: message`
/// (`code: message (cause: ...)` when the cause is a system error or in debug logs).
public struct IconError: Error, CustomStringConvertible, CustomDebugStringConvertible, Sendable {
    /// An extensible error code; callers match codes, never messages.
    public struct Code: Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public init(stringLiteral value: String) { self.rawValue = value }
        public var description: String { rawValue }

        /// A flag or argument value is wrong.
        public static let invalidArgument: Code = "invalid-argument"
        /// A file, image or resource does not exist.
        public static let notFound: Code = "not-found"
        /// Reading or writing a file failed.
        public static let io: Code = "io"
        /// A PEM file, key or certificate could not be parsed.
        public static let badKey: Code = "bad-key"
        /// A certificate chain does not lead to a trusted root, or a certificate is not valid now.
        public static let untrusted: Code = "untrusted"
        /// A signature does not verify.
        public static let badSignature: Code = "bad-signature"
        /// A manifest or message is not in the expected format.
        public static let malformed: Code = "malformed"
        /// A manifest is older than the one already stored.
        public static let replay: Code = "replay"
        /// A signed manifest past its `expires` time (a frozen or replayed manifest).
        public static let expired: Code = "expired"
        /// A certificate a revocation list names.
        public static let revoked: Code = "revoked"
        /// An image older than the version floor (`min_timestamp`) a machine has seen.
        public static let belowFloor: Code = "below-floor"
        /// Downloaded bytes do not match the expected hash.
        public static let hashMismatch: Code = "hash-mismatch"
        /// A server could not be reached or answered with an error.
        public static let network: Code = "network"
        /// A TLS handshake failed.
        public static let tls: Code = "tls"
        /// An external tool failed.
        public static let toolFailed: Code = "tool-failed"
        /// The operation needs privileges the process does not have.
        public static let permission: Code = "permission"
        /// Something that must not happen happened.
        public static let `internal`: Code = "internal"
    }

    public var code: Code
    public var message: String
    public var cause: (any Error)?
    public var file: String
    public var line: Int

    public init(
        _ code: Code, _ message: String, cause: (any Error)? = nil,
        file: String = #fileID, line: Int = #line
    ) {
        self.code = code
        self.message = message
        self.cause = cause
        self.file = file
        self.line = line
    }

    /// `code: message`, with the cause only when it is a system error (its text, such as
    /// "Permission denied") or another `IconError`. Library errors (NIO, TLS, decoding) stay out
    /// of what users read; ``debugDescription`` keeps them for debug logs.
    public var description: String {
        var text = "\(code): \(message)"
        if let cause, let shown = Self.userFacing(cause) {
            text += " (cause: \(shown))"
        }
        return text
    }

    /// `code: message (cause: ...)` with any cause, for debug logs.
    public var debugDescription: String {
        var text = "\(code): \(message)"
        if let cause {
            text += " (cause: \(Self.describe(cause)))"
        }
        return text
    }

    /// The text of a cause a user can act on, or nil for a library's internal error.
    static func userFacing(_ error: any Error) -> String? {
        if let error = error as? IconError { return error.description }
        let ns = error as NSError
        guard ns.domain == NSCocoaErrorDomain || ns.domain == NSPOSIXErrorDomain else { return nil }
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        if ns.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(ns.code)))
        }
        // Foundation's generic "The operation could not be completed" says nothing; leave it out.
        let text = ns.localizedDescription
        return text.hasPrefix("The operation could not be completed") ? nil : text
    }

    /// One short line for an underlying error: Foundation's file errors become the system's
    /// text ("Permission denied") instead of a dump of their user info.
    static func describe(_ error: any Error) -> String {
        if let error = error as? IconError { return error.debugDescription }
        if let text = userFacing(error) { return text }
        return String(describing: error).replacingOccurrences(of: "\n", with: " ")
    }
}

extension IconError.Code {
    /// Whether `error` is an `IconError` with this code, for `catch` patterns and `#expect`.
    public static func ~= (code: IconError.Code, error: any Error) -> Bool {
        (error as? IconError)?.code == code
    }
}
