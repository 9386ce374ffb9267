/// The device agent's systemd unit; `packaging/image/icon-agent.service` is a copy checked by a test.
public enum AgentUnit {
    /// The unit's file name under /etc/systemd/system.
    public static let name = "icon-agent.service"

    /// The unit text, byte for byte the same as `packaging/image/icon-agent.service`.
    public static let text = """
    # Iconograph device agent. Installed into images by the `iconograph` module; the flags live in
    # /etc/icon/agent.env (ICON_AGENT_ARGS=...), written by that module.
    [Unit]
    Description=Iconograph device agent
    Documentation=man:icon(1)
    After=network-online.target
    Wants=network-online.target

    [Service]
    Type=simple
    EnvironmentFile=/etc/icon/agent.env
    ExecStart=/usr/local/bin/icon agent $ICON_AGENT_ARGS
    Restart=always
    RestartSec=5
    # The journal gets standard error; one line per event.
    StandardError=journal
    Environment=ICON_LOG_LEVEL=info
    NoNewPrivileges=yes
    ProtectHome=yes
    PrivateTmp=yes

    [Install]
    WantedBy=multi-user.target

    """
}
