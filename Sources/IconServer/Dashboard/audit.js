// The audit log panel: the newest operator commands from `/api/audit`.
import { el, formatAgo, formatDate } from "./format.js";

const LIMIT = 200;
const REFRESH_MS = 5000;

export class AuditPanel {
  constructor() {
    this.panel = document.getElementById("audit");
    this.rows = document.getElementById("audit-rows");
    this.note = document.getElementById("audit-note");
    this.toggle = document.getElementById("audit-toggle");
    this.timer = null;
    this.loading = false;
    this.toggle.addEventListener("click", () => (this.isOpen ? this.close() : this.open()));
    document.getElementById("audit-close").addEventListener("click", () => this.close());
    document.getElementById("audit-refresh").addEventListener("click", () => this.load());
  }

  get isOpen() {
    return !this.panel.hidden;
  }

  open() {
    this.panel.hidden = false;
    this.toggle.setAttribute("aria-expanded", "true");
    this.load();
    clearInterval(this.timer);
    this.timer = setInterval(() => this.load(), REFRESH_MS);
  }

  close() {
    this.panel.hidden = true;
    this.toggle.setAttribute("aria-expanded", "false");
    clearInterval(this.timer);
    this.timer = null;
  }

  /** A command was just sent: the server writes the audit in batches, so look again shortly. */
  commandSent() {
    if (this.isOpen) setTimeout(() => this.load(), 400);
  }

  async load() {
    if (this.loading) return;
    this.loading = true;
    try {
      const response = await fetch(`/api/audit?limit=${LIMIT}`, { cache: "no-store" });
      if (response.status === 404) {
        this.show([], "The inventory is off (the server runs without --state-dir): no audit log is kept.");
        return;
      }
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const body = await response.json();
      const entries = Array.isArray(body.entries) ? body.entries : [];
      const count = entries.length >= LIMIT ? `The newest ${entries.length} commands`
        : entries.length === 1 ? "The only command" : `All ${entries.length} commands`;
      this.show(entries, entries.length ? `${count}, as of ${formatDate(Math.floor(Date.now() / 1000), true)}.` : "");
    } catch (error) {
      this.note.textContent = `Cannot load the audit log: ${error.message}`;
    } finally {
      this.loading = false;
    }
  }

  show(entries, note) {
    this.note.textContent = note;
    const now = Date.now();
    const rows = entries.map((entry) => {
      const command = entry.command && typeof entry.command === "object" ? entry.command : {};
      const what = typeof command.timestamp === "number" ? `${command.command} into ${command.timestamp}` : `${command.command ?? "?"}`;
      const time = typeof entry.time === "number" ? entry.time : null;
      return el("tr", { "data-id": entry.id ?? "", "data-target": entry.target ?? "" },
        el("td", { class: "time", "data-label": "Time" },
          time === null ? "" : el("time", { class: "when", title: `Unix time ${time}`, dateTime: new Date(time * 1000).toISOString() },
            el("span", { class: "ago" }, formatAgo(now - time * 1000)), el("span", { class: "date" }, formatDate(time)))),
        el("td", { class: "operator", "data-label": "Operator" }, entry.operator ?? ""),
        el("td", { class: "target", "data-label": "Target" }, entry.target ?? ""),
        el("td", { class: "command", "data-label": "Command" }, what),
        el("td", { class: "delivered", "data-label": "Delivered" },
          el("span", { class: entry.delivered ? "tag good" : "tag bad" }, entry.delivered ? "delivered" : "not delivered")),
        el("td", { class: "reason", "data-label": "Reason" }, el("span", { class: "clip", title: entry.reason ?? "" }, entry.reason ?? "")));
    });
    if (!rows.length) rows.push(el("tr", { class: "empty-row" }, el("td", { colSpan: 6, class: "empty" }, note ? "—" : "No commands yet.")));
    this.rows.replaceChildren(...rows);
  }
}
