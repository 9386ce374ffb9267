// Everything that uses IconPKI handles `Certificate`, `DistinguishedName` and friends; re-export
// X509 so modules that depend only on IconPKI can name those types without their own product
// dependency.
@_exported import X509
