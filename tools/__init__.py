"""Offline tools kept with the repo (never imported by the runtime packages)."""
