"""Proofs under stress: bad input, faults, load, security."""
