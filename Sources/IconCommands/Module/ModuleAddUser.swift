public import ArgumentParser
import IconBuild

/// `icon module adduser`: a login user in the image.
public struct ModuleAddUser: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "adduser",
        abstract: "Add a login user with a password hash, groups and an SSH key.",
        discussion: """
            Runs useradd (or usermod when the user exists) in the chroot. The password is a \
            crypt(3) hash, e.g. from `mkpasswd -m yescrypt`.

            Example:
              --module "icon module adduser --username ops \\
                --password-hash '\\$y\\$j9T\\$...' \\
                --groups sudo,adm --authorized-key ops.pub"
            """)

    public init() {}

    @OptionGroup var chroot: ChrootOption
    @Option(help: ArgumentHelp("Login name.", valueName: "name"))
    var username: String
    @Option(help: ArgumentHelp("crypt(3) password hash (default: no password, key login only).", valueName: "hash"))
    var passwordHash: String?
    @Option(help: ArgumentHelp("Comma-separated supplementary groups.", valueName: "groups"))
    var groups: String?
    @Option(help: ArgumentHelp("File to install as ~/.ssh/authorized_keys.", valueName: "file"))
    var authorizedKey: String?

    public func run() async throws {
        let list = groups.map { $0.split(separator: ",").map(String.init) } ?? []
        let module = AddUserModule(username: username, passwordHash: passwordHash, groups: list, authorizedKey: authorizedKey)
        try await module.apply(to: try chroot.context())
    }
}
