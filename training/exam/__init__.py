"""The FAST face test: its synthetic photos, the measured London pairs, fitting (with the
calibration), person-grouped evaluation and the exam card."""
