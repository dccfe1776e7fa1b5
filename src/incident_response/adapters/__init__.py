"""Adapters: one package per vendor or surface, each implementing ports. Nothing imports them but
the composition root (`bootstrap.py`) and their own tests."""
