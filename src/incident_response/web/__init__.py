"""The HTTP app: webhooks, API, console pages, the public status page and health."""
