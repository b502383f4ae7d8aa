"""tests/training/exam: the FAST exam's fitting and evaluation."""
