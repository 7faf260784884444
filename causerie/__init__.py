"""Causerie: a chat frontend for any OpenAI-compatible Chat Completions endpoint."""
