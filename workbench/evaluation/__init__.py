"""RAG evaluation: datasets, runs, metrics, statistics and comparisons."""
