"""maiaplan's planner: pure Python (pydantic + networkx), no Pulumi.

spec -> catalog -> topology -> sharding -> placement -> phases -> plan.
"""
