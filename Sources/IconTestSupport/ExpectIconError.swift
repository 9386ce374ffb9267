public import IconCore
public import Testing

/// Expects `body` to throw an ``IconError`` with `code`, and returns it for checks of its
/// message; records an issue when nothing is thrown, another error is, or the code differs.
@discardableResult
public func expectIconError<R>(
    _ code: IconError.Code, _ comment: Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws -> R
) -> IconError? {
    do {
        _ = try body()
    } catch let error as IconError {
        check(error, code, comment, sourceLocation)
        return error
    } catch {
        Issue.record("expected an IconError \(code), got \(error)\(comment.map { ": \($0)" } ?? "")", sourceLocation: sourceLocation)
        return nil
    }
    Issue.record("expected an IconError \(code), nothing was thrown\(comment.map { ": \($0)" } ?? "")", sourceLocation: sourceLocation)
    return nil
}

/// The async form of ``expectIconError(_:_:sourceLocation:_:)-(_,_,_,()->R)``.
@discardableResult
public func expectIconError<R>(
    _ code: IconError.Code, _ comment: Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () async throws -> R
) async -> IconError? {
    do {
        _ = try await body()
    } catch let error as IconError {
        check(error, code, comment, sourceLocation)
        return error
    } catch {
        Issue.record("expected an IconError \(code), got \(error)\(comment.map { ": \($0)" } ?? "")", sourceLocation: sourceLocation)
        return nil
    }
    Issue.record("expected an IconError \(code), nothing was thrown\(comment.map { ": \($0)" } ?? "")", sourceLocation: sourceLocation)
    return nil
}

private func check(_ error: IconError, _ code: IconError.Code, _ comment: Comment?, _ sourceLocation: SourceLocation) {
    #expect(error.code == code, "\(error.message)\(comment.map { ": \($0)" } ?? "")", sourceLocation: sourceLocation)
}
