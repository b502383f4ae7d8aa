"""Importable test support (bench/ uses it too): the fake Bot API, the bot harness, ONNX
fixtures, test images."""
