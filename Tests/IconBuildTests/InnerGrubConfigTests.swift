import IconBoot
@testable import IconBuild
import Testing


@Suite struct InnerGrubConfigTests {
    @Test func debianGrubCfgBootsLiveWithSerialConsole() {
        let config = InnerGrubConfig(flavor: .debian, title: "Iconograph server 1700000000", kernelArguments: ["console=ttyS0,115200", "quiet"])
        let text = config.grubCfg
        #expect(text.contains("serial --unit=0 --speed=115200"))
        #expect(text.contains("terminal_input console serial"))
        #expect(text.contains("terminal_output console serial"))
        #expect(text.contains("menuentry 'Iconograph server 1700000000' {"))
        #expect(text.contains("\tlinux /live/vmlinuz boot=live console=ttyS0,115200 quiet\n"))
        #expect(text.contains("\tinitrd /live/initrd.img\n"))
        #expect(!text.contains("findiso"))
    }

    @Test func debianLoopbackCfgFindsTheIso() {
        let text = InnerGrubConfig(flavor: .debian, title: "t", kernelArguments: ["quiet"]).loopbackCfg
        #expect(text.contains("\tlinux /live/vmlinuz boot=live \"findiso=${iso_path}\" quiet\n"))
        #expect(!text.contains("terminal_output"))
        // The outer menu's countdown leaves `timeout` unset inside `configfile`.
        #expect(text.hasPrefix("set timeout=1\nset default=0\n"))
    }

    @Test func ubuntuUsesCasperPathsAndIsoScan() {
        let config = InnerGrubConfig(flavor: .ubuntu, title: "t")
        #expect(config.grubCfg.contains("\tlinux /casper/vmlinuz boot=casper\n"))
        #expect(config.grubCfg.contains("\tinitrd /casper/initrd\n"))
        #expect(config.loopbackCfg.contains("\tlinux /casper/vmlinuz boot=casper \"iso-scan/filename=${iso_path}\"\n"))
    }

    @Test func hostileArgumentsAndTitlesAreQuoted() {
        let config = InnerGrubConfig(
            flavor: .debian, title: "it's {x}; $y",
            kernelArguments: ["a b", "x=$(reboot)", "}", "semi;colon", "new\nline"])
        let text = config.grubCfg
        #expect(text.contains("menuentry 'it'\\''s {x}; $y' {"))
        #expect(text.contains("boot=live 'a b' 'x=$(reboot)' '}' 'semi;colon' 'new line'\n"))
    }

    @Test func grubQuoteLeavesPlainWordsAlone() {
        #expect(GrubQuote.word("console=ttyS0,115200n8") == "console=ttyS0,115200n8")
        #expect(GrubQuote.word("") == "''")
        #expect(GrubQuote.word("a'b") == "'a'\\''b'")
        #expect(GrubQuote.word("${iso_path}") == "'${iso_path}'")
    }
}
