"""The web chat: a mobile-first page at ``/`` backed by the same conversation service."""
