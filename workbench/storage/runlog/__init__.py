"""Run-log storage: MongoDB store with rollups, batching writer with an on-disk spool, embedded server."""
