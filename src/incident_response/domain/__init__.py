"""The domain: incidents, alerts, audit events and status drafts. Data and rules, no I/O."""
