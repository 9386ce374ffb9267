import IconCommands
import Logging

@main
enum Entrypoint {
    static func main() async {
        LoggingSystem.bootstrap(IconLogHandler.factory)
        await IconCommand.main()
    }
}
