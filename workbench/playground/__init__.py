"""Prompt playground: datasets, variants and runs of every variant over every row."""
