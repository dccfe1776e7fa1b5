"""Logging, metrics and tracing. Failures here never block incident flow."""
