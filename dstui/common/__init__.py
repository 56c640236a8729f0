"""What every layer (client, emulator, CLI, TUI) may share: small pure helpers with no
third-party imports and no imports from the rest of dstui."""
