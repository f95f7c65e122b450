"""Live mode: listen along during a conversation, on the same pipeline as file analysis."""
