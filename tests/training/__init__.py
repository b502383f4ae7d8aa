"""Synthesis, training, export, calibration, the grader and exam fitting."""
