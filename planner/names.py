"""The one naming rule of spec names: what a tenant, cluster, contract, workload or accelerator may be called.

Spec names become parts of cloud resource names, tags and DNS names on all three clouds: the
Pulumi program names a workload's pool ``<cluster>-<workload>``, a TPU slice
``<cluster>-<workload>-<index>`` (to which Pulumi adds an 8-character ``-xxxxxxx`` suffix), and the
traffic shift ``<workload>.<cluster>.<domain>``. The strictest of the three clouds is GCP: a
resource name is ``[a-z]([-a-z0-9]*[a-z0-9])?`` of at most 63 characters, and a label value is
lowercase. So a spec name is a lowercase DNS label (RFC 1123, starting with a letter): lowercase
ASCII letters, digits and ``-``, beginning with a letter, not ending with ``-``, at most
:data:`MAX_NAME_LENGTH` characters; and a workload's name and the name of any cluster it may run on
together fit in :data:`MAX_CLUSTER_WORKLOAD_LENGTH` characters, so that the longest derived GCP
name (``<cluster>-<workload>-<slice>-<suffix>``, up to 9,999 slices) stays within 63.

The spec loader (planner/spec.py) checks every name at load; components/tags.py imports the same
rule. The policy pack keeps its own copy on purpose (it trusts nothing of the project).
"""

from __future__ import annotations

import re

MAX_NAME_LENGTH = 63
"""A DNS label's and a GCP resource name's length limit."""

MAX_CLUSTER_WORKLOAD_LENGTH = 48
"""63 (GCP) minus the ``-`` between them, ``-<slice>`` (up to 5) and Pulumi's ``-xxxxxxx`` suffix (8),
minus one to spare."""

NAME_PATTERN = re.compile(r"[a-z](?:[a-z0-9-]*[a-z0-9])?")
"""A spec name, matched with ``fullmatch`` (ASCII only: ``[a-z]`` is not Unicode-aware)."""

NAME_RULE = (
    "a name is lowercase ASCII letters, digits and '-', starts with a letter, does not end with '-', "
    f"and has at most {MAX_NAME_LENGTH} characters (a DNS label, as GCP requires of resource names)"
)
"""The rule in words, for error messages and docs."""


def name_problem(name: str) -> str | None:
    """What is wrong with ``name`` as a spec name, or None when it follows the rule.

    Parameters
    ----------
    name
        A tenant, cluster, contract, workload, accelerator or spec name.

    Returns
    -------
    str or None
        A short phrase (``"has uppercase letters"``) or None.

    Complexity: O(len(name)).
    """
    if not name:
        return "is empty"
    if len(name) > MAX_NAME_LENGTH:
        return f"has {len(name)} characters, more than {MAX_NAME_LENGTH}"
    if NAME_PATTERN.fullmatch(name):
        return None
    if not name.isascii():
        return "has non-ASCII characters"
    if name != name.lower():
        return "has uppercase letters"
    if not name[0].isalpha():
        return "does not start with a letter"
    if name.endswith("-"):
        return "ends with '-'"
    bad = sorted({char for char in name if not (char.islower() or char.isdigit() or char == "-")})
    return "has characters other than a-z, 0-9 and '-': " + " ".join(repr(char) for char in bad)


def suggested_name(name: str) -> str:
    """A name that follows the rule, close to ``name`` (for the fix of an error message).

    ``"Embed_Large"`` -> ``"embed-large"``; a name left empty by the rewrite becomes ``"name"``.
    """
    lowered = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")
    lowered = re.sub(r"-{2,}", "-", lowered)
    if not lowered or not lowered[0].isalpha():
        lowered = f"n-{lowered}" if lowered else "name"
    return lowered[:MAX_NAME_LENGTH].rstrip("-")


def check_name(name: str) -> str:
    """Return ``name`` when it follows the rule.

    Raises
    ------
    ValueError
        Saying what is wrong and suggesting a name that follows the rule.
    """
    problem = name_problem(name)
    if problem is not None:
        raise ValueError(f"'{name}' {problem}: {NAME_RULE}; e.g. '{suggested_name(name)}'")
    return name
