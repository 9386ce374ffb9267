import Synchronization
import X509

/// Chains the handshake verified in full whose root is an operator root, by leaf.
///
/// A resumed TLS session runs no verification, so handlers see only the leaf; an operator
/// whose intermediate the server does not know would then be refused on every resumed
/// connection. The chain remembered from the full handshake fills in (and is checked again).
final class VerifiedChains: Sendable {
    /// Chains kept at most; when full, the oldest half is forgotten.
    let capacity: Int
    private let state = Mutex<(chains: [Certificate: [Certificate]], order: [Certificate])>(([:], []))

    init(capacity: Int = 1024) {
        self.capacity = capacity
    }

    func remember(_ chain: [Certificate]) {
        guard let leaf = chain.first else { return }
        state.withLock { state in
            if state.chains.updateValue(chain, forKey: leaf) != nil { return }
            state.order.append(leaf)
            if state.order.count > capacity {
                let forgotten = state.order.prefix(state.order.count - capacity / 2)
                for old in forgotten { state.chains[old] = nil }
                state.order.removeFirst(forgotten.count)
            }
        }
    }

    func chain(for leaf: Certificate) -> [Certificate]? {
        state.withLock { $0.chains[leaf] }
    }
}
