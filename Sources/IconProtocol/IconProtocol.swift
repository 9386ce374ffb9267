// The IconProtocol module.
