"""Assistant: classification of free-text appeals (type, topic) and entity extraction."""
