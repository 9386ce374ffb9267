// The IconServer module.
