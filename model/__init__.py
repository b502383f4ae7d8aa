"""Screening core: photo bytes in, a screening result out. Imports no sibling package."""
