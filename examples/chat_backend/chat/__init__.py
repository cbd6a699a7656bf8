"""A small chat backend: rooms, messages and settings."""
