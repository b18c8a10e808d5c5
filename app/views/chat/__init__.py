"""The Chat page: questions about a knowledge base, answers streamed with their sources, and rated."""

from app.views.chat.view import render

__all__ = ["render"]
