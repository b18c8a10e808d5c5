"""GenAI Workbench: chat, prompt playground, labelling and RAG evaluation over your own documents."""

__version__ = "0.1.0"
