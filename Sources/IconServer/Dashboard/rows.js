// One machine's table row: built once, then updated in place (a text is written only when it
// changes, so a tick over thousands of rows costs little).
import { isPending, rolledBackFrom, statusText } from "./fleet.js";
import { el, formatDate, formatUptime, imageLabel, setText, setTitle, timeNode, updateTimeNode } from "./format.js";

/** The table's columns: class name and heading (also each card's labels on narrow screens). */
export const COLUMNS = [
  ["state", "State"], ["hostname", "Hostname"], ["report", "Last report"], ["uptime", "Uptime"],
  ["current", "Running"], ["next", "Boots next"], ["health", "Good / bad"], ["agent", "Agent"],
  ["status", "Status"],
];

const STATE_TITLES = {
  online: () => "Connected and reporting",
  stale: (staleAfterMs) => `Connected, but no report for over ${Math.round(staleAfterMs / 1000)} s`,
  offline: () => "Not connected",
};

export class MachineRow {
  /** @param open() shows the machine's dialog (click or Enter). */
  constructor(hostname, open) {
    /** The section it sits in, its state mark, and whether it matches the filter (set by the view). */
    this.type = null;
    this.state = null;
    this.match = null;
    const cells = {};
    this.row = el("tr", { class: "machine", "data-hostname": hostname, tabIndex: 0, hidden: true });
    for (const [name, title] of COLUMNS) {
      cells[name] = el("td", { class: name, "data-label": title });
      this.row.append(cells[name]);
    }
    cells.mark = el("span", { class: "mark" });
    cells.state.append(cells.mark);
    cells.hostname.append(el("strong", {}, hostname));
    cells.time = timeNode();
    cells.report.append(cells.time.node);
    cells.currentImage = imageNode();
    cells.current.append(cells.currentImage.node);
    cells.nextImage = imageNode();
    cells.pending = el("span", { class: "tag pending", hidden: true }, "reboot pending");
    cells.next.append(cells.nextImage.node, cells.pending);
    cells.good = el("span", { class: "good" });
    cells.bad = el("span", { class: "bad" });
    cells.rolledBack = el("span", { class: "tag rolled-back", hidden: true }, "rolled back");
    cells.separator = el("span", { class: "separator", hidden: true }, " / ");
    cells.health.append(cells.good, cells.separator, cells.bad, cells.rolledBack);
    cells.agentVersion = imageNode();
    cells.expiring = el("span", { class: "tag expiring", hidden: true });
    cells.agent.append(cells.agentVersion.node, cells.expiring);
    cells.statusText = el("span", { class: "clip" });
    cells.status.append(cells.statusText);
    this.cells = cells;
    this.row.addEventListener("click", open);
    this.row.addEventListener("keydown", (event) => { if (event.key === "Enter") open(); });
  }

  get isPending() {
    return this.row.classList.contains("pending");
  }

  get isRolledBack() {
    return this.row.classList.contains("rolled-back");
  }

  /** Everything the machine's last report says. */
  update(machine) {
    const { cells } = this;
    const data = machine.data;
    updateImage(cells.currentImage, data.timestamp, data.volume_id);
    updateImage(cells.nextImage, data.next_timestamp, data.next_volume_id);
    const pending = isPending(machine);
    setHidden(cells.pending, !pending);
    setTitle(cells.pending, pending ? `Boots ${data.next_timestamp} at its next reboot; runs ${data.timestamp} now` : "");
    setText(cells.uptime, formatUptime(data.uptime_seconds));
    cells.uptime.classList.toggle("blank", cells.uptime.textContent === "");
    const good = Array.isArray(data.good_images) ? data.good_images.join(", ") : "";
    const bad = [...rolledBackFrom(machine)].join(", ");
    setText(cells.good, good);
    setText(cells.bad, bad);
    setHidden(cells.separator, good === "" || bad === "");
    cells.health.classList.toggle("blank", good === "" && bad === "");
    setTitle(cells.bad, bad ? "marked bad: never chosen automatically again" : "");
    const rollback = data.last_rollback && typeof data.last_rollback === "object" ? data.last_rollback : null;
    setHidden(cells.rolledBack, bad === "");
    setTitle(cells.rolledBack, rollback
      ? `Fell back from ${rollback.failed}${typeof rollback.at === "number" && rollback.at > 0 ? ` on ${formatDate(rollback.at)}` : ""}`
      : "");
    updateVersion(cells.agentVersion, data.icon_version);
    const expiring = updateExpiry(cells.expiring, data.manifest_expires);
    cells.agent.classList.toggle("blank", typeof data.icon_version !== "string" && !expiring);
    const status = statusText(machine);
    setText(cells.statusText, status);
    setTitle(cells.statusText, status);
    cells.status.classList.toggle("blank", status === "");
    this.row.classList.toggle("pending", pending);
    this.row.classList.toggle("rolled-back", bad !== "");
  }

  /** `online`, `stale` or `offline`: the row's class and its one mark. */
  setState(state, staleAfterMs) {
    this.state = state;
    for (const name of ["online", "stale", "offline"]) this.row.classList.toggle(`state-${name}`, name === state);
    const mark = this.cells.mark;
    if (mark.className !== `mark ${state}`) mark.className = `mark ${state}`;
    setText(mark, state);
    setTitle(mark, STATE_TITLES[state](staleAfterMs));
  }

  /** The last report's time; offline rows say "last seen". */
  setTime(unix, ageMs, recentMs) {
    updateTimeNode(this.cells.time, unix, ageMs, this.state === "offline" ? "last seen " : "", recentMs);
  }
}

/** Writes `hidden` only when it changes (each write restyles the row). */
export function setHidden(node, hidden) {
  if (node.hidden !== hidden) node.hidden = hidden;
}

/** Inserts (or moves) a row into a tbody kept sorted by hostname: a binary search over its rows. */
export function insertSorted(tbody, row) {
  if (row.parentNode) row.remove();
  const rows = tbody.rows;
  const hostname = row.dataset.hostname;
  let low = 0, high = rows.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (rows[mid].dataset.hostname < hostname) low = mid + 1;
    else high = mid;
  }
  tbody.insertBefore(row, rows[low] ?? null);
}

/** How long a manifest has left before the row warns: one day, as the agent's own warning. */
const EXPIRY_WARNING_SECONDS = 86400;

/**
 * The tag for a manifest that expires within a day ("manifest expires in 5h 12m") or has
 * expired (the machine refuses it until it is signed again). Returns whether it shows.
 */
function updateExpiry(node, expires) {
  const left = typeof expires === "number" ? expires - Date.now() / 1000 : Infinity;
  const soon = left < EXPIRY_WARNING_SECONDS;
  setHidden(node, !soon);
  setText(node, !soon ? "" : left <= 0 ? "manifest expired" : `manifest expires in ${formatUptime(left)}`);
  setTitle(node, soon
    ? `The manifest this machine accepted expires on ${formatDate(expires)}; after that it refuses it until it is signed again (icon publish)`
    : "");
  node.classList.toggle("expired", soon && left <= 0);
  return soon;
}

function imageNode() {
  const id = el("strong");
  const volume = el("small");
  return { node: el("span", { class: "image" }, id, volume), id, volume };
}

/** `0.2.0 (commit 1a2b3c4d5e6f)` as the release, with the commit below it. */
function updateVersion(node, version) {
  const text = typeof version === "string" ? version : "";
  const match = /^(\S+) \((.*)\)$/.exec(text);
  setText(node.id, match ? match[1] : text);
  setText(node.volume, match ? match[2] : "");
  setTitle(node.id, text ? `icon ${text}` : "");
}

function updateImage(image, timestamp, volumeID) {
  setText(image.id, imageLabel(timestamp) || "—");
  setText(image.volume, typeof volumeID === "string" ? volumeID : "");
  setTitle(image.id, typeof timestamp === "number" ? `built ${formatDate(timestamp)}` : "");
}
