"""One module per CLI sub-command, each exposing ``register(subparsers)``.

``register`` adds the sub-command's parser and sets ``handler`` to a function
``(argparse.Namespace) -> int`` that returns the exit code.
"""
