/// The version of this build of Iconograph.
public enum IconVersion {
    public static let string = "0.1.0"
}
