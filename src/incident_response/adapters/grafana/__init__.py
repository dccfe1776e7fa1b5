"""Grafana adapters: Grafana OnCall (the OnCall port) and Grafana Cloud (the Telemetry port)."""
