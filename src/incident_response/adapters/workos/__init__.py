"""WorkOS Directory Sync as the Directory port: who works here and in which team."""
