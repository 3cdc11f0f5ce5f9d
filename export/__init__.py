"""Exports: the history as a git repository (Open Terms Archive layout), JSON Lines, CSV."""
