"""tests/model/face: decoding, the face detector, the mesh, the quality gate, the crop."""
