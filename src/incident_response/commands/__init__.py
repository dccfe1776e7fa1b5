"""`/incident-response` commands, one module each, dispatched by the CommandRegistry."""
