// Iconograph fleet dashboard: every machine the inventory knows, kept live over /ws/master.
// No external scripts; all data goes into the page through textContent, never as HTML.
import { AuditPanel } from "./audit.js";
import { MachineDialog } from "./dialogs.js";
import { Fleet } from "./fleet.js";
import { Manifests } from "./manifests.js";
import { FleetView } from "./view.js";

// Rows turn stale after three missed 5-second reports. `?stale=SECONDS` overrides this, so a
// browser test (or an operator with a slower fleet) need not wait 15 s.
const STALE_AFTER_MS = (() => {
  const seconds = Number(new URLSearchParams(location.search).get("stale"));
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 15000;
})();

const fleet = new Fleet(STALE_AFTER_MS);
const audit = new AuditPanel();
const connection = { socket: null, retryMs: 1000, imageTypes: [] };
let view = null;
const manifests = new Manifests((type) => view.manifestChanged(type));
const dialog = new MachineDialog({ fleet, manifests, send, onSent: () => audit.commandSent() });
view = new FleetView({ fleet, manifests, openMachine: (hostname) => dialog.open(hostname) });

function handleMessage(message) {
  switch (message.type) {
    case "image_types": {
      const types = Array.isArray(message.data?.image_types) ? message.data.image_types.filter((t) => typeof t === "string") : [];
      connection.imageTypes = types;
      manifests.setServed(types);
      view.setImageTypes(types);
      for (const type of types) manifests.load(type);
      break;
    }
    case "targets":
      view.changed(fleet.setTargets(message.data?.targets));
      break;
    case "report": {
      const hostname = fleet.addReport(message, Date.now());
      if (hostname === null) return;
      view.changed([hostname]);
      if (dialog.hostname === hostname) dialog.refresh();
      break;
    }
    case "new_manifest": {
      const type = message.data?.image_type;
      if (typeof type === "string" && connection.imageTypes.includes(type)) {
        manifests.load(type).then(() => { if (dialog.machine?.type === type) dialog.renderVersions(); });
      }
      break;
    }
    default:
      break; // newer servers may send more; ignore what we do not know
  }
}

/** Every machine the inventory knows, offline ones included; 404 means the server keeps none. */
async function loadInventory() {
  await fetchInventory();
  view.changed(fleet.inventoryDone());
}

async function fetchInventory() {
  try {
    const response = await fetch("/api/machines", { cache: "no-store" });
    if (response.status === 404) {
      view.setInventory("off");
      return;
    }
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const body = await response.json();
    view.changed(fleet.mergeInventory(Array.isArray(body.machines) ? body.machines : []));
    view.setInventory("on");
  } catch (error) {
    view.setInventory("error", error.message);
  }
}

function connect() {
  const socket = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/master`, "iconograph-master");
  connection.socket = socket;
  socket.addEventListener("open", () => {
    connection.retryMs = 1000;
    view.setConnection(true);
  });
  socket.addEventListener("message", (event) => {
    let message;
    try { message = JSON.parse(event.data); } catch { return; }
    if (message && typeof message.type === "string") handleMessage(message);
  });
  socket.addEventListener("close", () => {
    view.setConnection(false);
    fleet.clearTargets();
    view.changedAll();
    const delay = connection.retryMs * (0.5 + Math.random());
    connection.retryMs = Math.min(connection.retryMs * 2, 30000);
    setTimeout(() => {
      connect();
      // Machines may have come and gone meanwhile.
      loadInventory();
    }, delay);
  });
}

function send(message) {
  const socket = connection.socket;
  if (!socket || socket.readyState !== WebSocket.OPEN) return false;
  socket.send(JSON.stringify(message));
  return true;
}

setInterval(() => {
  view.tick();
  if (dialog.hostname !== null) dialog.refresh();
}, 1000);
loadInventory();
connect();
