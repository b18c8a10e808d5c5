"""Use cases. Each takes a unit of work (or a store) and commits once per user event."""
