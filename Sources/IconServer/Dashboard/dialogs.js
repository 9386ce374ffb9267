// The machine dialog (its image type's versions, "Select" and "Reboot (same image)") and the
// confirmation every reboot goes through before a command leaves the page.
import { el, formatDate, formatRollout, imageLabel } from "./format.js";
import { rolledBackFrom, statusText } from "./fleet.js";

export class MachineDialog {
  /**
   * @param fleet the model; @param manifests the manifest cache; @param send(message) → bool;
   * @param onSent() after a command went out.
   */
  constructor({ fleet, manifests, send, onSent }) {
    Object.assign(this, { fleet, manifests, send, onSent });
    this.dialog = document.getElementById("machine-dialog");
    this.confirmDialog = document.getElementById("confirm-dialog");
    this.hostname = null;
    this.renderedKey = null;
    this.dialog.addEventListener("close", () => { this.hostname = null; });
    document.getElementById("reboot-button").addEventListener("click", () => this.rebootSameImage());
  }

  get machine() {
    return this.hostname === null ? null : this.fleet.machines.get(this.hostname) ?? null;
  }

  open(hostname) {
    this.hostname = hostname;
    this.renderedKey = null;
    document.getElementById("dialog-title").textContent = hostname;
    this.setNote("");
    this.refresh();
    this.renderVersions();
    const type = this.machine?.type;
    // Fetched again: the operator is about to choose from it.
    if (type) this.manifests.load(type).then(() => { if (this.machine?.type === type) this.renderVersions(); });
    if (!this.dialog.open) this.dialog.showModal();
  }

  /** The machine reported again: update what the dialog says about it. */
  refresh() {
    const machine = this.machine;
    if (!machine) return;
    const data = machine.data;
    const state = this.fleet.stateOf(machine, Date.now());
    const mark = document.getElementById("dialog-state");
    mark.className = `mark ${state}`;
    mark.textContent = state;
    document.getElementById("dialog-status").textContent =
      `${machine.type} · runs ${imageLabel(data.timestamp) || "?"}${data.volume_id ? ` (${data.volume_id})` : ""}`
      + ` · boots next ${imageLabel(data.next_timestamp) || "?"}`;
    document.getElementById("dialog-status-text").textContent = statusText(machine);
    this.renderVersions();
  }

  renderVersions() {
    const machine = this.machine;
    const tbody = document.getElementById("dialog-versions");
    if (!machine) return;
    const manifest = this.manifests.get(machine.type);
    if (!manifest || manifest.error) {
      this.renderedKey = null;
      tbody.replaceChildren(emptyRow(manifest ? manifest.error : "loading the manifest…"));
      return;
    }
    const data = machine.data;
    const bad = rolledBackFrom(machine);
    // Rebuilt only when something shown changed, so a button is never swapped under the pointer.
    const key = JSON.stringify([machine.hostname, manifest.images, data.timestamp, data.next_timestamp, [...bad]]);
    if (key === this.renderedKey) return;
    this.renderedKey = key;
    const rows = manifest.images.map((image) => {
      const select = el("button", { type: "button", class: "select", "data-timestamp": String(image.timestamp) }, "Select");
      select.addEventListener("click", () => this.rebootInto(image, select));
      const state = image.timestamp === data.timestamp ? "running" : image.timestamp === data.next_timestamp ? "next"
        : bad.has(image.timestamp) ? "bad" : "";
      return el("tr", { "data-timestamp": String(image.timestamp) },
        el("td", { class: "version-image" }, el("strong", {}, String(image.timestamp)),
          el("small", { title: `built ${formatDate(image.timestamp)}` }, image.volume_id || "")),
        el("td", { class: "version-rollout" }, formatRollout(image["rollout_\u2031"])),
        el("td", { class: "version-state" }, state ? el("span", { class: `tag ${state}` }, state) : ""),
        el("td", { class: "action" }, select));
    });
    tbody.replaceChildren(...(rows.length ? rows : [emptyRow("the manifest lists no images")]));
  }

  async rebootInto(image, button) {
    const hostname = this.hostname;
    const data = this.machine?.data ?? {};
    const volume = image.volume_id ? ` (${image.volume_id})` : "";
    const now = typeof data.timestamp === "number" ? `${hostname} runs ${data.timestamp} now. ` : "";
    const confirmed = await this.confirm(
      `Reboot ${hostname} into image ${image.timestamp}${volume}?`,
      `${now}It fetches the image if needed, makes it the next boot and restarts.`, `Reboot into ${image.timestamp}`);
    if (!confirmed || hostname === null) return;
    this.deliver(hostname, { command: "reboot", timestamp: image.timestamp }, `Reboot into ${image.timestamp}`, button);
  }

  async rebootSameImage() {
    const hostname = this.hostname;
    if (hostname === null) return;
    const data = this.machine?.data ?? {};
    // Without a timestamp the agent just restarts: it boots whatever `current` points at.
    const next = data.next_timestamp ?? data.timestamp;
    const volume = data.next_volume_id ?? data.volume_id;
    const image = typeof next === "number" ? `image ${next}${volume ? ` (${volume})` : ""}` : "the image it boots next";
    const pending = typeof data.timestamp === "number" && typeof next === "number" && next !== data.timestamp
      ? ` That is the pending image, not ${data.timestamp} it runs now.` : "";
    const confirmed = await this.confirm(
      `Reboot ${hostname}? It boots ${image}.`, `Nothing is fetched.${pending}`, "Reboot");
    if (!confirmed) return;
    this.deliver(hostname, { command: "reboot" }, "Reboot", document.getElementById("reboot-button"));
  }

  deliver(hostname, data, what, button) {
    if (this.send({ type: "command", target: hostname, data })) {
      this.setNote(`${what} sent to ${hostname}; the audit log shows whether it was delivered.`);
      if (button.classList.contains("select")) {
        button.textContent = "Sent";
        button.disabled = true;
      }
      this.onSent();
    } else {
      this.setNote(`Not sent: the page is not connected to the server.`, true);
    }
  }

  setNote(text, bad = false) {
    const note = document.getElementById("dialog-note");
    note.textContent = text;
    note.className = bad ? "note bad" : "note";
  }

  /** Asks in the confirmation dialog; resolves true only for its confirm button. */
  confirm(question, detail, action) {
    const dialog = this.confirmDialog;
    document.getElementById("confirm-text").textContent = question;
    document.getElementById("confirm-detail").textContent = detail;
    document.getElementById("confirm-ok").textContent = action;
    dialog.returnValue = "";
    return new Promise((resolve) => {
      dialog.addEventListener("close", () => resolve(dialog.returnValue === "confirm"), { once: true });
      dialog.showModal();
      document.getElementById("confirm-cancel").focus();
    });
  }
}

function emptyRow(text) {
  return el("tr", {}, el("td", { class: "empty", colSpan: 4 }, text));
}
