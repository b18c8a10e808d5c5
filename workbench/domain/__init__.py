"""Domain records: plain data, no I/O."""
