"""Outbound webhooks: the status page's subscribers."""
