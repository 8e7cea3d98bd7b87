"""Phase scheduling: the problem and its ledgers (``problem``), the greedy list scheduler that hints
and backs up the solver (``greedy``), and the CP-SAT model solved level by level (``cpsat``)."""
