"""The embedded default: everything on one machine, in one SQLite file and the data dir."""
