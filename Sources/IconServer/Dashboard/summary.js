// One image type's fleet summary: per image its rollout, and a bar of the machines running it
// (solid) and pending on it (striped), with how many run it, wait for it and fell back from it.
import { el, formatDate, formatRollout } from "./format.js";

/**
 * @param container the section's `.summary` element
 * @param summary `Fleet.summary()`: {total, images: [{timestamp, image, running, pending, rolledBack}]}
 * @param manifest {images} or {error}, or null while loading
 */
export function renderSummary(container, summary, manifest) {
  const { total, images } = summary;
  const note = manifest === null ? "loading the manifest…" : manifest.error ? manifest.error
    : `${manifest.images.length} ${manifest.images.length === 1 ? "image" : "images"} in the manifest, newest first`;
  const head = el("div", { class: "summary-head" }, el("h3", {}, "Images"),
    el("span", { class: manifest?.error ? "note bad" : "note" }, note));
  if (!images.length) {
    container.replaceChildren(head);
    return;
  }
  const legend = el("div", { class: "image-row legend", "aria-hidden": "true" },
    el("span", {}, "Image"), el("span", {}, "Rollout"), el("span", {}, `Machines (of ${total})`),
    el("span", { class: "num" }, "Running"), el("span", { class: "num" }, "Pending"), el("span", { class: "num" }, "Rolled back"));
  container.replaceChildren(head, legend, ...images.map((row) => imageRow(row, total)));
}

function imageRow({ timestamp, image, running, pending, rolledBack }, total) {
  const share = (n) => (total > 0 ? `${Math.round((n / total) * 1000) / 10}%` : "0%");
  const runningBar = el("i", { class: "running" });
  runningBar.style.width = share(running);
  const pendingBar = el("i", { class: "pending" });
  pendingBar.style.width = share(pending);
  const rollout = image ? image["rollout_\u2031"] : null;
  const meter = el("i");
  meter.style.width = `${Math.min(100, Math.max(0, (rollout ?? 0) / 100))}%`;
  return el("div", { class: image ? "image-row" : "image-row gone", "data-timestamp": String(timestamp) },
    el("div", { class: "image-id" },
      el("strong", { title: `built ${formatDate(timestamp)}` }, String(timestamp)),
      el("small", {}, image ? [image.volume_id || "", image.volume_id ? " · " : "", `built ${formatDate(timestamp).slice(0, 10)}`]
        : "no longer in the manifest")),
    el("div", { class: "rollout", title: image ? `offered to ${formatRollout(rollout)} of the machines` : "" },
      image ? [el("span", { class: "meter" }, meter), el("span", { class: "value" }, formatRollout(rollout))] : "—"),
    el("div", { class: "share", title: `${running} of ${total} run it, ${pending} will boot it next` },
      el("span", { class: "bar" }, runningBar, pendingBar)),
    count("running", running, "running"), count("pending", pending, "pending"), count("rolled-back", rolledBack, "rolled back"));
}

function count(kind, n, label) {
  return el("div", { class: n > 0 ? `num ${kind}` : `num ${kind} zero`, "data-count": n },
    el("b", {}, String(n)), el("span", { class: "unit" }, ` ${label}`));
}
