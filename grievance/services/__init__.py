"""The use cases. Web views, CLI commands and channels call these; nothing else changes
a case. Every function takes a `Context` (session, clock, key ring) and an `Actor`."""
