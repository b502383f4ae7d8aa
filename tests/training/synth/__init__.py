"""tests/training/synth: the synthetic palsy set and its warp."""
