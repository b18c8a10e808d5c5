"""Feedback labelling: rubrics, queues and agreement between annotators."""
