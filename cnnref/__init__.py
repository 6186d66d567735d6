"""Every concept of the CNN notes, in NumPy."""
