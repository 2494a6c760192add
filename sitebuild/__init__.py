"""Build steps for the static LLM Data Review site."""
