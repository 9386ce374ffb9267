// Iconograph fleet dashboard: a live view of every machine over /ws/master.
// No external scripts; all data goes into the page through textContent, never as HTML.
"use strict";

// Rows turn stale after three missed 5-second reports. `?stale=SECONDS` overrides this, so a
// browser test (or an operator with a slower fleet) need not wait 15 s.
const STALE_AFTER_MS = (() => {
  const seconds = Number(new URLSearchParams(location.search).get("stale"));
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 15000;
})();
const state = {
  socket: null,
  imageTypes: [],
  machines: new Map(), // hostname -> {report, received (ms), type}
  targets: new Set(),
  retryMs: 1000,
  openHost: null,
};

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("data-")) node.setAttribute(key, value);
    else node[key] = value;
  }
  for (const child of children) {
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function formatAge(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  return `${Math.floor(s / 3600)} h ago`;
}

function formatUptime(seconds) {
  if (typeof seconds !== "number") return "";
  const d = Math.floor(seconds / 86400), h = Math.floor((seconds % 86400) / 3600), m = Math.floor((seconds % 3600) / 60);
  return d > 0 ? `${d}d ${h}h` : h > 0 ? `${h}h ${m}m` : `${m}m ${Math.floor(seconds % 60)}s`;
}

function imageLabel(timestamp) {
  if (timestamp === undefined || timestamp === null) return "";
  return String(timestamp);
}

function sectionFor(type) {
  let section = document.getElementById(`type-${type}`);
  if (section) return section;
  section = el("section", { id: `type-${type}`, "data-image-type": type },
    el("h2", {}, type),
    el("table", {},
      el("thead", {}, el("tr", {},
        ...["Hostname", "Last report", "Uptime", "Current image", "Current volume id",
            "Next image", "Next volume id", "Good / bad", "Status"].map((h) => el("th", {}, h)))),
      el("tbody", {}, el("tr", { class: "empty-row" }, el("td", { class: "empty", colSpan: 9 }, "no machines yet")))));
  document.getElementById("types").append(section);
  return section;
}

function renderTypes() {
  for (const type of state.imageTypes) sectionFor(type);
}

function rowFor(hostname, type) {
  const tbody = sectionFor(type).querySelector("tbody");
  let row = tbody.querySelector(`tr[data-hostname="${CSS.escape(hostname)}"]`);
  if (!row) {
    for (const other of document.querySelectorAll(`tr[data-hostname="${CSS.escape(hostname)}"]`)) other.remove();
    tbody.querySelector(".empty-row")?.remove();
    row = el("tr", { class: "machine", "data-hostname": hostname });
    for (const name of ["hostname", "age", "uptime", "current", "current-volume", "next", "next-volume", "health", "status"]) {
      row.append(el("td", { class: name }));
    }
    row.addEventListener("click", () => openMachine(hostname));
    const rows = [...tbody.querySelectorAll("tr.machine")];
    const before = rows.find((r) => r.dataset.hostname > hostname);
    tbody.insertBefore(row, before || null);
  }
  return row;
}

function renderMachine(hostname) {
  const machine = state.machines.get(hostname);
  if (!machine) return;
  const data = machine.report;
  const row = rowFor(hostname, machine.type);
  const cell = (name) => row.querySelector(`td.${name}`);
  cell("hostname").textContent = hostname;
  cell("uptime").textContent = formatUptime(data.uptime_seconds);
  cell("current").textContent = imageLabel(data.timestamp);
  cell("current-volume").textContent = data.volume_id || "";
  cell("next").textContent = imageLabel(data.next_timestamp);
  cell("next-volume").textContent = data.next_volume_id || "";
  const good = Array.isArray(data.good_images) ? data.good_images.join(", ") : "";
  const bad = Array.isArray(data.bad_images) ? data.bad_images.join(", ") : "";
  const health = cell("health");
  health.replaceChildren(el("span", { class: "good" }, good), bad ? " / " : "", el("span", { class: "bad" }, bad));
  let status = data.status || "";
  if (data.last_rollback && typeof data.last_rollback === "object") {
    const rb = data.last_rollback;
    status = `${status}${status ? " — " : ""}rolled back from ${rb.failed} to ${rb.running}${rb.reason ? ` (${rb.reason})` : ""}`;
  }
  cell("status").textContent = status;
  refreshAges();
}

function refreshAges() {
  const now = Date.now();
  for (const [hostname, machine] of state.machines) {
    const row = document.querySelector(`tr[data-hostname="${CSS.escape(hostname)}"]`);
    if (!row) continue;
    const age = now - machine.received;
    row.querySelector("td.age").textContent = formatAge(age);
    row.classList.toggle("stale", age > STALE_AFTER_MS);
    row.classList.toggle("online", state.targets.has(hostname));
    row.classList.toggle("offline", !state.targets.has(hostname));
  }
}

function handleMessage(message) {
  switch (message.type) {
    case "image_types":
      state.imageTypes = message.data.image_types || [];
      renderTypes();
      break;
    case "targets":
      state.targets = new Set(message.data.targets || []);
      refreshAges();
      break;
    case "report": {
      const data = message.data || {};
      if (typeof data.hostname !== "string" || data.hostname === "") return;
      const type = typeof data.image_type === "string" && data.image_type ? data.image_type : "unknown";
      state.machines.set(data.hostname, { report: data, received: Date.now(), type });
      renderMachine(data.hostname);
      if (state.openHost === data.hostname) showDialogStatus();
      break;
    }
    case "new_manifest":
      if (state.openHost) loadVersions(state.openHost);
      break;
    default:
      break; // newer servers may send more; ignore what we do not know
  }
}

function connect() {
  const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/master`;
  const socket = new WebSocket(url, "iconograph-master");
  state.socket = socket;
  const badge = document.getElementById("connection");
  socket.addEventListener("open", () => {
    state.retryMs = 1000;
    badge.textContent = "live";
    badge.className = "connection up";
  });
  socket.addEventListener("message", (event) => {
    let message;
    try { message = JSON.parse(event.data); } catch { return; }
    if (message && typeof message.type === "string") handleMessage(message);
  });
  socket.addEventListener("close", () => {
    badge.textContent = "reconnecting…";
    badge.className = "connection down";
    const delay = state.retryMs * (0.5 + Math.random());
    state.retryMs = Math.min(state.retryMs * 2, 30000);
    setTimeout(connect, delay);
  });
}

function send(message) {
  if (state.socket && state.socket.readyState === WebSocket.OPEN) {
    state.socket.send(JSON.stringify(message));
    return true;
  }
  return false;
}

function showDialogStatus() {
  const machine = state.machines.get(state.openHost);
  const data = machine ? machine.report : {};
  document.getElementById("dialog-status").textContent =
    `running ${imageLabel(data.timestamp)} (${data.volume_id || "?"}), next ${imageLabel(data.next_timestamp)}` +
    (data.status ? ` — ${data.status}` : "");
}

async function loadVersions(hostname) {
  const machine = state.machines.get(hostname);
  const tbody = document.getElementById("dialog-versions");
  tbody.replaceChildren(el("tr", {}, el("td", { class: "empty", colSpan: 5 }, "loading manifest…")));
  try {
    const response = await fetch(`/image/${encodeURIComponent(machine.type)}/manifest.json`, { cache: "no-store" });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const wrapper = await response.json();
    const manifest = JSON.parse(wrapper.inner);
    const data = machine.report;
    const bad = new Set(Array.isArray(data.bad_images) ? data.bad_images : []);
    const rows = (manifest.images || []).map((image) => {
      const select = el("button", { type: "button", class: "select", "data-timestamp": String(image.timestamp) }, "Select");
      select.addEventListener("click", () => {
        if (send({ type: "command", target: hostname, data: { command: "reboot", timestamp: image.timestamp } })) {
          select.textContent = "Sent";
          select.disabled = true;
        }
      });
      const stateText = image.timestamp === data.timestamp ? "running" : image.timestamp === data.next_timestamp ? "next" : bad.has(image.timestamp) ? "bad" : "";
      return el("tr", { "data-timestamp": String(image.timestamp) },
        el("td", {}, String(image.timestamp)), el("td", {}, image.volume_id || ""),
        el("td", {}, `${((image["rollout_\u2031"] || 0) / 100).toFixed(2)} %`),
        el("td", { class: stateText === "bad" ? "bad" : "" }, stateText), el("td", {}, select));
    });
    tbody.replaceChildren(...(rows.length ? rows : [el("tr", {}, el("td", { class: "empty", colSpan: 5 }, "no images"))]));
  } catch (error) {
    tbody.replaceChildren(el("tr", {}, el("td", { class: "empty", colSpan: 5 }, `cannot load the manifest: ${error.message}`)));
  }
}

function openMachine(hostname) {
  state.openHost = hostname;
  document.getElementById("dialog-title").textContent = hostname;
  showDialogStatus();
  loadVersions(hostname);
  const dialog = document.getElementById("machine-dialog");
  if (!dialog.open) dialog.showModal();
}

document.getElementById("reboot-button").addEventListener("click", () => {
  if (state.openHost) send({ type: "command", target: state.openHost, data: { command: "reboot" } });
});
document.getElementById("machine-dialog").addEventListener("close", () => { state.openHost = null; });
setInterval(refreshAges, 1000);
connect();
