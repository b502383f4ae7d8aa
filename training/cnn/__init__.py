"""The paper's CNN: its data, training, the run folder, export to ONNX, calibration, the model
card, evaluation, and its person-grouped cross-validation against the grader."""
