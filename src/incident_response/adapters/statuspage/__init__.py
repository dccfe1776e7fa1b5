"""Public status pages: the built-in one (embedded default) and Statuspage.io."""
