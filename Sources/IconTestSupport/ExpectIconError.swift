public import IconCore
public import Testing

/// Expects `body` to throw an ``IconError`` with `code`, and returns it for checks of its
/// message; records an issue when nothing is thrown, another error is, or the code differs.
@discardableResult
public func expectIconError<R>(
    _ code: IconError.Code, _ comment: Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws -> R
) -> IconError? {
    judge(Result { _ = try body() }, code, comment, sourceLocation)
}

/// The async form of ``expectIconError(_:_:sourceLocation:_:)-(_,_,_,()->R)``.
@discardableResult
public func expectIconError<R>(
    _ code: IconError.Code, _ comment: Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () async throws -> R
) async -> IconError? {
    let result: Result<Void, any Error>
    do {
        _ = try await body()
        result = .success(())
    } catch {
        result = .failure(error)
    }
    return judge(result, code, comment, sourceLocation)
}

/// The error of `result` when it is an ``IconError`` with `code`; an issue otherwise.
private func judge(
    _ result: Result<Void, any Error>, _ code: IconError.Code, _ comment: Comment?, _ sourceLocation: SourceLocation
) -> IconError? {
    let note = comment.map { ": \($0)" } ?? ""
    switch result {
    case .success:
        Issue.record("expected an IconError \(code), nothing was thrown\(note)", sourceLocation: sourceLocation)
        return nil
    case .failure(let error as IconError):
        #expect(error.code == code, "\(error.message)\(note)", sourceLocation: sourceLocation)
        return error
    case .failure(let error):
        Issue.record("expected an IconError \(code), got \(error)\(note)", sourceLocation: sourceLocation)
        return nil
    }
}
