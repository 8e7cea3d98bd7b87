"""maiaplan's application layer: the CLI, the offline dry-run engine and output formatters."""
