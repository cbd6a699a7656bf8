"""The team's single source of truth for test infrastructure."""
