// The IconManifest module.
