"""The grader: its rows of measures, fitting (with the calibration), person-grouped evaluation,
whether the CNN earns a weight, and the grader card."""
