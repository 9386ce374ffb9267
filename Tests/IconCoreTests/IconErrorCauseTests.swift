import Foundation
import IconCore
import Testing

@Suite struct IconErrorCauseTests {
    struct LibraryFailure: Error, CustomStringConvertible {
        var description: String { "SingleConnectionFailure(NIOSSLError.failedToLoadPrivateKey)" }
    }

    @Test("a library's error stays out of the description and is kept for debug logs")
    func libraryCauseOnlyInDebugDescription() {
        let error = IconError(.network, "cannot reach https://x:1/", cause: LibraryFailure())
        #expect(error.description == "network: cannot reach https://x:1/")
        #expect(error.debugDescription.contains("SingleConnectionFailure"))
    }

    @Test("a system error's text and a nested IconError stay in the description")
    func systemAndNestedCausesShown() {
        let posix = IconError(.io, "cannot read /x", cause: NSError(domain: NSPOSIXErrorDomain, code: Int(EACCES)))
        #expect(posix.description == "io: cannot read /x (cause: Permission denied)")
        let nested = IconError(.badKey, "outer", cause: IconError(.notFound, "inner"))
        #expect(nested.description == "bad-key: outer (cause: not-found: inner)")
    }
}
