"""The task queue (Celery): the app all processes share, and the client that sends tasks and reads the queue."""
