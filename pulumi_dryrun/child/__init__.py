"""What runs in the program's process: the bootstrap, the schema describer, and the one module that
touches private Pulumi SDK internals (``compat``). Nothing here imports the rest of the engine: the
bootstrap loads this package by path, under a private name, with only the project's own packages."""
