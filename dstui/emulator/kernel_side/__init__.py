"""Code that runs inside the kernels (stdlib only); the emulator sends its source."""
