"""The HTTP API (`workbench api`): versioned routes under /api/v1 for other programs, signed in with API keys."""
