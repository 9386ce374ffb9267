public import ArgumentParser
import IconBuild

/// `icon module`: the stock image modules, run by `icon build-image --module "icon module <name>"`.
public struct ModuleCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "module",
        abstract: "Stock image modules, run inside icon build-image.",
        discussion: """
            Each module changes the image's root filesystem (--chroot-path, added by \
            build-image) and writes nothing outside it. Modules can be run again on the same \
            chroot with the same result.

            Example:
              icon build-image ... --module "icon module persistent" \\
                --module "icon module systemid"
            """,
        subcommands: [
            ModuleIconograph.self, ModulePersistent.self, ModuleSystemID.self, ModuleAutoimage.self,
            ModuleCertclient.self, ModuleOpenSSH.self, ModuleAddUser.self,
        ]
    )

    public init() {}
}

/// The `--chroot-path` every module takes.
struct ChrootOption: ParsableArguments {
    @Option(help: ArgumentHelp("Root of the image being built (build-image passes it).", valueName: "dir"))
    var chrootPath: String

    func context() throws -> ModuleContext {
        try ModuleContext(chrootPath: chrootPath)
    }
}

/// The `--icon-binary` of the modules that install `icon` into the image.
struct IconBinaryOption: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "The icon binary to install: a release build with the Swift runtime linked in, as scripts/build-release.sh makes at dist/icon (default: this icon).",
            valueName: "path"))
    var iconBinary: String?

    /// The installer for the chosen binary; it checks the binary before writing anything.
    var installer: IconBinaryInstaller {
        iconBinary.map { IconBinaryInstaller(binary: $0, flag: "--icon-binary") } ?? IconBinaryInstaller()
    }
}
