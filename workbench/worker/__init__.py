"""`workbench worker`: a queue worker process that works eval items and playground cells as Celery tasks."""
