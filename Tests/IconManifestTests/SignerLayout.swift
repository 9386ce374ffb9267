import Foundation
import IconTestSupport

/// A test PKI laid out as a newcomer has it after `icon pki init /etc/icon/ca` and
/// `icon pki issue --out /etc/icon/<name>`: the CA in `<base>/ca/`, leaves in `<base>/`.
struct SignerLayout {
    let pki: TestPKI
    let base: String

    var caDir: String { "\(base)/ca" }
    var root: String { "\(caDir)/root.cert.pem" }
    var intermediate: String { "\(caDir)/intermediate.cert.pem" }
    func cert(_ name: String) -> String { "\(base)/\(name).cert.pem" }
    func key(_ name: String) -> String { "\(base)/\(name).key.pem" }

    /// Copies the root and intermediate certificates into `<base>/ca` and the leaves named
    /// `leaves` (TestPKI file names: signer, device, server) into `<base>`.
    init(pki: TestPKI, base: String, leaves: [String] = ["signer", "device", "server"]) throws {
        self.pki = pki
        self.base = base
        let files = FileManager.default
        try files.createDirectory(atPath: "\(base)/ca", withIntermediateDirectories: true)
        for name in ["root", "intermediate"] {
            try files.copyItem(atPath: "\(pki.directory)/\(name).cert.pem", toPath: "\(base)/ca/\(name).cert.pem")
        }
        for name in leaves {
            try files.copyItem(atPath: "\(pki.directory)/\(name).cert.pem", toPath: "\(base)/\(name).cert.pem")
            try files.copyItem(atPath: "\(pki.directory)/\(name).key.pem", toPath: "\(base)/\(name).key.pem")
        }
    }
}
