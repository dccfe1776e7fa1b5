"""Production backends on AWS: one module per service, each behind a port (issue 11)."""
