// The IconPKI module.
