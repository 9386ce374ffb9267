// Building DOM nodes and formatting times, images and rollouts for people.
// Every text goes into the page through text nodes (textContent), never as HTML.

/** An element with attributes (`class`, `data-*`, `aria-*`, `title`, ...) and children (nodes or text). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key.startsWith("data-") || key.startsWith("aria-") || key === "role" || key === "for") node.setAttribute(key, String(value));
    else node[key] = value;
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Sets a text only when it changed, so a tick over thousands of rows writes little. */
export function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

export function setTitle(node, title) {
  if (node.title !== title) node.title = title;
}

const two = (n) => String(n).padStart(2, "0");

/** `2025-12-01 23:55` in the browser's time zone (`seconds` adds `:04`). */
export function formatDate(unixSeconds, seconds = false) {
  const d = new Date(unixSeconds * 1000);
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}`
    + (seconds ? `:${two(d.getSeconds())}` : "");
}

/**
 * `just now` (under `recentMs`), `12 s ago`, `4 min ago`, `3 h ago`, `2 d ago`. A machine
 * reporting every 5 s stays "just now", so thousands of rows do not change text every second.
 */
export function formatAgo(ms, recentMs = 2000) {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (ms < recentMs || s < 2) return "just now";
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

/** `2d 4h`, `1h 2m`, `3m 12s`; empty when the machine did not say. */
export function formatUptime(seconds) {
  if (typeof seconds !== "number" || !Number.isFinite(seconds)) return "";
  const d = Math.floor(seconds / 86400), h = Math.floor((seconds % 86400) / 3600), m = Math.floor((seconds % 3600) / 60);
  return d > 0 ? `${d}d ${h}h` : h > 0 ? `${h}h ${m}m` : `${m}m ${Math.floor(seconds % 60)}s`;
}

/** A manifest's `rollout_‱` (per ten thousand) as `100 %`, `25.5 %`, `0.01 %`. */
export function formatRollout(perTenThousand) {
  const value = typeof perTenThousand === "number" ? perTenThousand : 0;
  return `${Number((value / 100).toFixed(2))} %`;
}

/** An image's id as people quote it to `icon operator`: its timestamp. */
export function imageLabel(timestamp) {
  return typeof timestamp === "number" ? String(timestamp) : "";
}

/** A `<time>` for a report time: relative text, the date below, the Unix time on hover. */
export function timeNode() {
  const ago = el("span", { class: "ago" });
  const date = el("span", { class: "date" });
  return { node: el("time", { class: "when" }, ago, date), ago, date, unix: undefined };
}

/**
 * `ageMs` comes separately: a live report's age is measured on this page's clock, not in whole
 * seconds. The date and title are rewritten only when the time itself changed.
 */
export function updateTimeNode(time, unixSeconds, ageMs, prefix = "", recentMs = 2000) {
  if (typeof unixSeconds !== "number") {
    setText(time.ago, "no report yet");
    if (time.unix !== null) {
      time.unix = null;
      setText(time.date, "");
      setTitle(time.node, "");
    }
    return;
  }
  setText(time.ago, prefix + formatAgo(ageMs, recentMs));
  if (time.unix === unixSeconds) return;
  time.unix = unixSeconds;
  setText(time.date, formatDate(unixSeconds));
  setTitle(time.node, `Unix time ${unixSeconds}`);
  time.node.dateTime = new Date(unixSeconds * 1000).toISOString();
}
