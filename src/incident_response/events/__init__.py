"""Queue event handlers, one module per event type, dispatched by the EventRegistry."""
