"""tests/model/cnn: the ONNX classifier, its contract, the shipped model and its card."""
