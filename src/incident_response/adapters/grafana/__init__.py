"""Grafana: OnCall (who is on call) and Grafana Cloud (context)."""
