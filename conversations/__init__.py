"""Conversations with residents and officers: one module per conversation."""
