"""The CLI's commands: each module implements one group and formats its output."""
