"""Facial measures from the mesh, per side and left against right, in inter-pupil distances."""
