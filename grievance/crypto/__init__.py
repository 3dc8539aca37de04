"""The identity vault: key ring, envelope encryption, keyed lookups, receipt codes."""
