"""Notifications: `[[notify]]` targets, messages, and delivery through the outbox."""
