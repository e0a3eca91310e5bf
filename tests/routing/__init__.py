"""Tests of the routing code: flows/routing (pure) and bot/routing (loading, CLI)."""
