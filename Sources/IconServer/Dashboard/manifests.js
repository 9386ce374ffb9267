// Each image type's signed manifest (`/image/<type>/manifest.json`): the wrapper's `inner` text
// holds `images` [{timestamp, volume_id, "rollout_‱", hash}]. The page shows what the server
// publishes; machines verify the signature themselves.

export class Manifests {
  constructor(onChange) {
    this.onChange = onChange;
    /** type -> {images: [...]} or {error: "..."} */
    this.byType = new Map();
    this.loading = new Map();
    /** The image types the server serves (from `image_types`); others have no manifest to ask for. */
    this.served = new Set();
  }

  setServed(types) {
    this.served = new Set(types);
  }

  get(type) {
    return this.byType.get(type) ?? null;
  }

  /** Fetches the manifest of `type` (again); concurrent calls share one request. */
  load(type) {
    if (this.loading.has(type)) return this.loading.get(type);
    const request = this.fetch(type).then((result) => {
      this.byType.set(type, result);
      this.loading.delete(type);
      this.onChange(type);
      return result;
    });
    this.loading.set(type, request);
    return request;
  }

  async fetch(type) {
    if (!this.served.has(type)) return { error: "not an image type this server serves" };
    try {
      const response = await fetch(`/image/${encodeURIComponent(type)}/manifest.json`, { cache: "no-store" });
      if (response.status === 404) return { error: "no manifest published" };
      if (!response.ok) return { error: `manifest: HTTP ${response.status}` };
      const wrapper = await response.json();
      if (typeof wrapper.inner !== "string") return { error: "the manifest is not signed (no inner text)" };
      const manifest = JSON.parse(wrapper.inner);
      const images = Array.isArray(manifest.images) ? manifest.images.filter((i) => i && typeof i.timestamp === "number") : [];
      // Newest first, as operators think of rollouts.
      images.sort((a, b) => b.timestamp - a.timestamp);
      return { images };
    } catch (error) {
      return { error: `cannot read the manifest: ${error.message}` };
    }
  }
}
