// The IconDevice module.
