"""GitHub: what changed around an incident (commits, merged pull requests) and who owns the service (CODEOWNERS)."""
