"""The repository itself: layering, README commands."""
