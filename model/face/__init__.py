"""Face analysis: decode the photo, find one face, gate its quality, fit the mesh, crop."""
