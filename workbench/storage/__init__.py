"""Storage adapters: SQL repositories + unit of work, and the MongoDB run-log store."""
