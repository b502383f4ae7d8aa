"""tests/training/cnn: the paper CNN's data, fit, export, calibration, card and evaluation."""
