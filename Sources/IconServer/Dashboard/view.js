// The page: one section per image type (its image summary and its machines), the state
// counts that double as filters, the search box. Rows are updated in place, batched per frame.
import { UNKNOWN_TYPE } from "./fleet.js";
import { el, imageLabel, setText } from "./format.js";
import { COLUMNS, insertSorted, MachineRow, setHidden } from "./rows.js";
import { renderSummary } from "./summary.js";

const FILTERS = ["all", "online", "stale", "offline", "pending", "rolled-back"];
/**
 * Rows shown per section before "Show more": every row in the DOM that is displayed costs
 * layout on each update, and a table of 10,000 rows takes about a second per frame. Search,
 * the chips and the summary cover the rest.
 */
export const ROWS_PER_PAGE = 500;

export class FleetView {
  constructor({ fleet, manifests, openMachine }) {
    Object.assign(this, { fleet, manifests, openMachine });
    this.main = document.getElementById("types");
    this.sections = new Map(); // type -> {section, tbody, counts, summary, empty, wrap, more, limit}
    this.rows = new Map(); // hostname -> {row, cells, type, state, match}
    /** The server's image types, null until it said. */
    this.imageTypes = null;
    this.dirtyHosts = new Set();
    this.dirtyTypes = new Set();
    /** Sections whose shown rows must be worked out again (a row came, moved or changed its match). */
    this.dirtyVisibility = new Set();
    this.scheduled = false;
    this.filter = { text: "", state: "all" };
    const search = document.getElementById("search");
    const onSearch = () => {
      const text = search.value.trim().toLowerCase();
      if (text === this.filter.text) return;
      this.filter.text = text;
      this.refilter();
    };
    search.addEventListener("input", onSearch);
    search.addEventListener("change", onSearch);
    for (const chip of document.querySelectorAll("#state-filter .chip")) {
      chip.addEventListener("click", () => {
        this.filter.state = chip.dataset.state;
        for (const other of document.querySelectorAll("#state-filter .chip")) {
          other.setAttribute("aria-pressed", String(other === chip));
        }
        this.refilter();
      });
    }
  }

  setConnection(up) {
    const badge = document.getElementById("connection");
    badge.textContent = up ? "live" : "reconnecting…";
    badge.className = up ? "pill up" : "pill down";
  }

  /** `on`, `off` (the server has no --state-dir) or `error` with a detail. */
  setInventory(state, detail = "") {
    const badge = document.getElementById("inventory-state");
    badge.dataset.state = state;
    badge.hidden = false;
    if (state === "on") {
      badge.textContent = "inventory on";
      badge.className = "pill quiet";
      badge.title = "Machines the server has heard from, offline ones included, come from its inventory (--state-dir).";
    } else if (state === "off") {
      badge.textContent = "inventory off: live reports only";
      badge.className = "pill warn";
      badge.title = "The server runs without --state-dir: offline machines and the audit log are not kept.";
    } else {
      badge.textContent = "inventory unavailable";
      badge.className = "pill warn";
      badge.title = `Cannot load /api/machines: ${detail}`;
    }
  }

  setImageTypes(types) {
    this.imageTypes = types;
    for (const type of types) this.sectionFor(type);
    this.orderSections();
  }

  changed(hostnames) {
    for (const hostname of hostnames) this.dirtyHosts.add(hostname);
    this.schedule();
  }

  changedAll() {
    this.changed(this.fleet.machines.keys());
  }

  manifestChanged(type) {
    this.dirtyTypes.add(type);
    this.schedule();
  }

  schedule() {
    if (this.scheduled) return;
    this.scheduled = true;
    requestAnimationFrame(() => this.flush());
  }

  flush() {
    this.scheduled = false;
    const now = Date.now();
    for (const hostname of this.dirtyHosts) {
      const machine = this.fleet.machines.get(hostname);
      if (!machine) continue;
      const view = this.rows.get(hostname);
      if (view) this.dirtyTypes.add(view.type);
      this.dirtyTypes.add(machine.type);
      this.renderRow(machine, now);
    }
    this.dirtyHosts.clear();
    for (const type of this.dirtyTypes) this.renderSummary(type);
    this.dirtyTypes.clear();
    this.applyVisibility();
    this.renderCounts();
  }

  /** Once a second: ages, and rows that went stale. */
  tick() {
    const now = Date.now();
    let moved = false;
    for (const machine of this.fleet.machines.values()) {
      const view = this.rows.get(machine.hostname);
      if (!view) continue;
      if (this.fleet.stateOf(machine, now) !== view.state) {
        this.renderRow(machine, now);
        moved = true;
      } else {
        this.renderTime(view, machine, now);
      }
    }
    if (moved) {
      this.applyVisibility();
      this.renderCounts();
    }
  }

  sectionFor(type) {
    const known = this.sections.get(type);
    if (known) return known;
    const tbody = el("tbody");
    const counts = el("p", { class: "type-counts" });
    const summary = el("div", { class: "summary" });
    const empty = el("p", { class: "empty" });
    const table = el("table", { class: "machines" },
      el("thead", {}, el("tr", {}, COLUMNS.map(([name, title]) => el("th", { class: name, scope: "col" }, title)))), tbody);
    const wrap = el("div", { class: "table-wrap" }, table);
    const more = el("button", { type: "button", class: "more", hidden: true });
    const section = el("section", { class: "fleet-type", id: `type-${type}`, "data-image-type": type },
      el("header", { class: "type-head" }, el("h2", {}, type === UNKNOWN_TYPE ? "Image type not reported yet" : type), counts),
      summary, wrap, more, empty);
    const entry = { type, section, tbody, counts, summary, empty, wrap, more, limit: ROWS_PER_PAGE, matching: 0, shown: 0 };
    more.addEventListener("click", () => {
      entry.limit += ROWS_PER_PAGE;
      this.dirtyVisibility.add(type);
      this.applyVisibility();
      this.renderCounts();
    });
    this.sections.set(type, entry);
    this.main.append(section);
    this.orderSections();
    this.renderSummary(type);
    return entry;
  }

  /** The server's types in its order, then types only machines named. */
  orderSections() {
    const order = this.fleet.types(this.imageTypes ?? []);
    const rank = (type) => (type === UNKNOWN_TYPE ? Infinity : order.indexOf(type) === -1 ? order.length : order.indexOf(type));
    const sorted = [...this.sections.values()].sort((a, b) => rank(a.type) - rank(b.type));
    for (const entry of sorted) this.main.append(entry.section);
  }

  renderRow(machine, now) {
    let view = this.rows.get(machine.hostname);
    if (!view) {
      view = new MachineRow(machine.hostname, () => this.openMachine(machine.hostname));
      this.rows.set(machine.hostname, view);
    }
    if (view.type !== machine.type) {
      if (view.type !== null) this.dirtyVisibility.add(view.type);
      insertSorted(this.sectionFor(machine.type).tbody, view.row);
      view.type = machine.type;
      view.match = null;
    }
    view.update(machine);
    this.renderState(view, machine, now);
  }

  renderState(view, machine, now) {
    const state = this.fleet.stateOf(machine, now);
    view.setState(state, this.fleet.staleAfterMs);
    this.renderTime(view, machine, now);
    const match = this.matches(machine, view);
    if (match !== view.match) {
      view.match = match;
      this.dirtyVisibility.add(view.type);
    }
  }

  renderTime(view, machine, now) {
    const age = this.fleet.ageOf(machine, now);
    // "just now" only while online: a stale row always says how old its last report is.
    const recent = view.state === "online" ? Math.min(10000, this.fleet.staleAfterMs) : 0;
    view.setTime(machine.unix, age ?? 0, recent);
  }

  matches(machine, view) {
    const { text, state } = this.filter;
    if (state === "pending" && !view.isPending) return false;
    if (state === "rolled-back" && !view.isRolledBack) return false;
    if (["online", "stale", "offline"].includes(state) && view.state !== state) return false;
    if (!text) return true;
    const data = machine.data;
    return [machine.hostname, imageLabel(data.timestamp), imageLabel(data.next_timestamp), data.volume_id, data.next_volume_id]
      .some((value) => typeof value === "string" && value.toLowerCase().includes(text));
  }

  refilter() {
    for (const machine of this.fleet.machines.values()) {
      const view = this.rows.get(machine.hostname);
      if (view) view.match = this.matches(machine, view);
    }
    for (const entry of this.sections.values()) {
      entry.limit = ROWS_PER_PAGE;
      this.dirtyVisibility.add(entry.type);
    }
    this.applyVisibility();
    this.renderCounts();
  }

  /** Shows the first `limit` matching rows of each changed section, in hostname order; hides the rest. */
  applyVisibility() {
    for (const type of this.dirtyVisibility) {
      const entry = this.sections.get(type);
      if (!entry) continue;
      let matching = 0;
      for (const row of entry.tbody.rows) {
        const view = this.rows.get(row.dataset.hostname);
        const match = view?.match === true;
        if (match) matching += 1;
        setHidden(row, !(match && matching <= entry.limit));
      }
      entry.matching = matching;
      entry.shown = Math.min(matching, entry.limit);
      const rest = matching - entry.shown;
      setHidden(entry.more, rest <= 0);
      setText(entry.more, rest > 0 ? `Show ${Math.min(rest, ROWS_PER_PAGE)} more (${entry.shown} of ${matching} shown)` : "");
    }
    this.dirtyVisibility.clear();
  }

  renderSummary(type) {
    const entry = this.sections.get(type);
    if (!entry) return;
    const manifest = this.imageTypes === null ? null
      : this.imageTypes.includes(type) ? this.manifests.get(type) : { error: "not an image type this server serves" };
    renderSummary(entry.summary, this.fleet.summary(type, manifest?.images), manifest);
  }

  /** The chips' numbers, each section's numbers and its note when no row shows. */
  renderCounts() {
    const total = Object.fromEntries(FILTERS.map((f) => [f, 0]));
    const perType = new Map();
    for (const machine of this.fleet.machines.values()) {
      const view = this.rows.get(machine.hostname);
      if (!view) continue;
      const counts = perType.get(view.type) ?? { all: 0, online: 0, stale: 0, offline: 0, pending: 0, "rolled-back": 0 };
      perType.set(view.type, counts);
      for (const key of ["all", view.state, ...(view.isPending ? ["pending"] : []),
        ...(view.isRolledBack ? ["rolled-back"] : [])]) {
        counts[key] += 1;
        total[key] += 1;
      }
    }
    for (const chip of document.querySelectorAll("#state-filter .chip")) {
      setText(chip.querySelector(".count"), String(total[chip.dataset.state] ?? 0));
    }
    for (const [type, entry] of this.sections) {
      const counts = perType.get(type) ?? { all: 0 };
      const parts = [[counts.all, counts.all === 1 ? "machine" : "machines", "all"], [counts.online, "online", "online"],
        [counts.stale, "stale", "stale"], [counts.offline, "offline", "offline"], [counts.pending, "reboot pending", "pending"],
        [counts["rolled-back"], "rolled back", "rolled-back"]];
      entry.counts.replaceChildren(...parts.filter(([n], i) => i === 0 || n > 0)
        .map(([n, label, key]) => el("span", { class: `count ${key}`, "data-count": n }, el("b", {}, String(n)), ` ${label}`)));
      setText(entry.empty, counts.all === 0 ? "No machine of this type has reported yet."
        : entry.matching === 0 ? "No machine here matches the filter." : "");
      setHidden(entry.empty, entry.empty.textContent === "");
      setHidden(entry.wrap, entry.shown === 0);
    }
  }
}

