"""The rules: plain functions from resource views and typed configuration to findings."""
