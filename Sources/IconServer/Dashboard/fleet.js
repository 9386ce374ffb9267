// The page's model of the fleet: every machine from the inventory (`/api/machines`) and the
// live stream (`report`, `targets`), each machine's state, and the per-image summary.
// No DOM here.

/** The states a machine is in, exactly one at a time. */
export const STATES = ["online", "stale", "offline"];

/** Machines without an `image_type` in their report. */
export const UNKNOWN_TYPE = "unknown";

const isNumber = (value) => typeof value === "number" && Number.isFinite(value);

export class Fleet {
  /** @param staleAfterMs how long without a report a connected machine stays online. */
  constructor(staleAfterMs) {
    this.staleAfterMs = staleAfterMs;
    /** hostname -> machine: {hostname, type, data, status, unix, atMs, connected, live} */
    this.machines = new Map();
    /** The hostnames connected now, or null until the server said. */
    this.targets = null;
    this.inventoryAnswered = false;
  }

  /**
   * Takes `/api/machines` records; a machine this page already heard from live keeps its newer
   * report. Returns the hostnames that changed.
   */
  mergeInventory(records) {
    const changed = [];
    for (const record of records) {
      if (!record || typeof record.hostname !== "string" || record.hostname === "") continue;
      const unix = isNumber(record.last_report) ? record.last_report : isNumber(record.first_seen) ? record.first_seen : null;
      const known = this.machines.get(record.hostname);
      if (known && known.live && isNumber(known.unix) && (unix === null || known.unix >= unix)) continue;
      const report = record.report && typeof record.report === "object" ? record.report : {};
      const data = {
        ...report,
        hostname: record.hostname,
        image_type: report.image_type ?? record.image_type,
        timestamp: report.timestamp ?? record.running_timestamp,
        volume_id: report.volume_id ?? record.running_volume_id,
        next_timestamp: report.next_timestamp ?? record.next_timestamp,
        next_volume_id: report.next_volume_id ?? record.next_volume_id,
      };
      this.machines.set(record.hostname, {
        hostname: record.hostname,
        type: typeName(data.image_type),
        data,
        status: nonEmpty(record.last_status) ?? nonEmpty(report.status) ?? "",
        unix,
        atMs: unix === null ? null : unix * 1000,
        connected: record.connected === true,
        live: false,
        client: record.client ?? null,
      });
      changed.push(record.hostname);
    }
    return changed;
  }

  /** Takes one `report` message as operators get it; returns its hostname, or null when unusable. */
  addReport(message, nowMs) {
    const data = message.data;
    if (!data || typeof data !== "object" || typeof data.hostname !== "string" || data.hostname === "") return null;
    const known = this.machines.get(data.hostname);
    this.machines.set(data.hostname, {
      hostname: data.hostname,
      type: typeName(data.image_type),
      data,
      // Like the inventory's last_status: a report with an empty status keeps the last one said.
      status: nonEmpty(data.status) ?? known?.status ?? "",
      unix: isNumber(message.received) ? message.received : Math.floor(nowMs / 1000),
      atMs: nowMs,
      connected: true,
      live: true,
      client: typeof message.client === "string" ? message.client : known?.client ?? null,
    });
    return data.hostname;
  }

  /** Takes a `targets` list; returns the hostnames whose connection changed. Unknown ones get a placeholder. */
  setTargets(list) {
    const next = new Set(Array.isArray(list) ? list.filter((h) => typeof h === "string" && h) : []);
    const changed = [];
    for (const [hostname, machine] of this.machines) {
      if (this.isConnected(machine) !== next.has(hostname)) changed.push(hostname);
    }
    this.targets = next;
    return changed.concat(this.addPlaceholders());
  }

  /**
   * Once the inventory answered (or is off): connected machines still unknown get a row until
   * their next report fills it in (they reported before this page opened).
   */
  inventoryDone() {
    this.inventoryAnswered = true;
    return this.addPlaceholders();
  }

  addPlaceholders() {
    if (!this.inventoryAnswered || !this.targets) return [];
    const added = [];
    for (const hostname of this.targets) {
      if (this.machines.has(hostname)) continue;
      this.machines.set(hostname, {
        hostname, type: UNKNOWN_TYPE, data: { hostname }, status: "", unix: null, atMs: null, connected: true, live: false,
        client: null,
      });
      added.push(hostname);
    }
    return added;
  }

  /** Forgets who is connected (the page lost its WebSocket); the inventory's word counts again. */
  clearTargets() {
    this.targets = null;
  }

  isConnected(machine) {
    return this.targets ? this.targets.has(machine.hostname) : machine.connected;
  }

  /** `offline` (not connected), `stale` (connected, no report for the threshold) or `online`. */
  stateOf(machine, nowMs) {
    if (!this.isConnected(machine)) return "offline";
    if (machine.atMs === null || nowMs - machine.atMs > this.staleAfterMs) return "stale";
    return "online";
  }

  /** Milliseconds since the machine's last report. */
  ageOf(machine, nowMs) {
    return machine.atMs === null ? null : Math.max(0, nowMs - machine.atMs);
  }

  /** The image types with machines or announced by the server, in the server's order first. */
  types(announced) {
    const types = [...announced];
    for (const machine of this.machines.values()) if (!types.includes(machine.type)) types.push(machine.type);
    return types;
  }

  /**
   * Per image of `type`: how many machines run it, are pending on it (it is next, current
   * differs) and rolled back from it. Manifest images first (as listed), then images machines
   * run that the manifest no longer has.
   */
  summary(type, manifestImages) {
    const rows = new Map();
    const row = (timestamp, image) => {
      if (!rows.has(timestamp)) rows.set(timestamp, { timestamp, image, running: 0, pending: 0, rolledBack: 0 });
      return rows.get(timestamp);
    };
    for (const image of manifestImages || []) if (isNumber(image.timestamp)) row(image.timestamp, image);
    let total = 0;
    for (const machine of this.machines.values()) {
      if (machine.type !== type) continue;
      total += 1;
      const { timestamp, next_timestamp: next } = machine.data;
      if (isNumber(timestamp)) row(timestamp, null).running += 1;
      if (isPending(machine)) row(next, null).pending += 1;
      for (const failed of rolledBackFrom(machine)) row(failed, null).rolledBack += 1;
    }
    return { total, images: [...rows.values()] };
  }
}

/** Whether the machine boots another image than it runs (`current` ≠ `next`): a reboot is pending. */
export function isPending(machine) {
  const { timestamp, next_timestamp: next } = machine.data;
  return isNumber(timestamp) && isNumber(next) && timestamp !== next;
}

/** The images this machine fell back from: its last rollback and the images it marked bad. */
export function rolledBackFrom(machine) {
  const failed = new Set();
  const rollback = machine.data.last_rollback;
  if (rollback && typeof rollback === "object" && isNumber(rollback.failed)) failed.add(rollback.failed);
  if (Array.isArray(machine.data.bad_images)) for (const t of machine.data.bad_images) if (isNumber(t)) failed.add(t);
  return failed;
}

/**
 * The status line with the last rollback said once: agents already write "Rolled back from T:
 * reason" into the status, and then nothing is added.
 */
export function statusText(machine) {
  const status = machine.status || "";
  const rollback = machine.data.last_rollback;
  if (!rollback || typeof rollback !== "object" || !isNumber(rollback.failed)) return status;
  if (status.toLowerCase().includes(`rolled back from ${rollback.failed}`)) return status;
  const detail = `rolled back from ${rollback.failed}${isNumber(rollback.running) ? ` to ${rollback.running}` : ""}`
    + (rollback.reason ? ` (${rollback.reason})` : "");
  return status ? `${status} — ${detail}` : detail.charAt(0).toUpperCase() + detail.slice(1);
}

function typeName(value) {
  return typeof value === "string" && value ? value : UNKNOWN_TYPE;
}

function nonEmpty(value) {
  return typeof value === "string" && value !== "" ? value : null;
}
