"""Alert intake: authenticate a webhook, parse and normalise its body, record it once, enqueue it.

Intake never calls a vendor and never opens incidents itself; the queue's ALERT_RECEIVED handler
does that, so a webhook answers in milliseconds whatever the vendors are doing.
"""
