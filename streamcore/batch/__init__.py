"""What every batch loop (ingestion and snapshot workers) shares: the retry policy for
transient state errors and the garbage-collector policy of a long-running batch process."""
