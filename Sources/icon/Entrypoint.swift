import IconCommands

@main
enum Entrypoint {
    static func main() async {
        await IconCommand.main()
    }
}
