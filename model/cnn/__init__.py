"""The paper's image classifier: its ONNX contract and runtime (one input of the decision)."""
