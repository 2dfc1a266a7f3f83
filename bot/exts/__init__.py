"""Feature extensions: one module or package per feature, each loaded by `AlignmentBot.setup_hook`."""
