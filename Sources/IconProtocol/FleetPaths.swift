/// The fleet server's URL paths, shared by the server, the agent and the operator's client.
public enum FleetPaths {
    /// Machines' WebSocket (the original's name), with ``HubSubprotocol/slave``.
    public static let machineSocket = "/ws/slave"
    /// Operators' WebSocket (the original's name), with ``HubSubprotocol/master``.
    public static let operatorSocket = "/ws/master"
    /// The first path component of every image URL: `image` in `/image/<type>/<file>`.
    public static let imageComponent = "image"
    /// Where every image type's directory is served: `/image/<type>/`.
    public static let imagePrefix = "/\(imageComponent)/"

    /// The base path of `imageType`'s manifest and ISOs: `/image/<type>`.
    public static func imageBase(_ imageType: String) -> String {
        imagePrefix + imageType
    }
}
