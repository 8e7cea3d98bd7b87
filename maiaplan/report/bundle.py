"""The charts' JavaScript: Vega, Vega-Lite and vega-embed, from the vl-convert-python wheel.

``vl_convert.javascript_bundle`` returns one self-contained script (the three libraries and their
dependencies, no import, no network) that sets ``window.vegaEmbed``, ``window.vega`` and
``window.vegaLite``. It is built from the JavaScript compiled into the wheel, so ``pip install``
is all a machine needs; the Vega-Lite version is the one Altair's specs are written for.
"""

from __future__ import annotations

import functools
import importlib.metadata

import altair as alt
import vl_convert as vlc

from planner.errors import InputError


def vega_lite_version() -> str:
    """``major.minor`` of the Vega-Lite schema Altair writes (``v6.4.1`` → ``6.4``)."""
    major, minor = alt.SCHEMA_VERSION.lstrip("v").split(".")[:2]
    return f"{major}.{minor}"


@functools.cache
def javascript_bundle() -> str:
    """The script that draws the report's charts (about 0.9 MB; built once per process).

    Raises
    ------
    InputError
        When the installed vl-convert-python has no Vega-Lite of Altair's version (upgrade it).
    """
    version = vega_lite_version()
    if version not in vlc.get_vegalite_versions():
        raise InputError(
            "vl-convert-python",
            "",
            f"{importlib.metadata.version('vl-convert-python')} bundles Vega-Lite {', '.join(vlc.get_vegalite_versions())}, not {version} "
            f"that Altair {alt.__version__} writes",
            "python3 -m pip install -U vl-convert-python altair",
        )
    # The stub requires a snippet; without one the bundle sets window.vegaEmbed, vega, vegaLite.
    script: str = vlc.javascript_bundle(vl_version=version)  # type: ignore[call-arg]
    # The script goes inside <script>…</script>: it must not close the element early.
    if "</script" in script.lower():
        raise RuntimeError("the Vega bundle contains '</script'; it cannot be inlined as is")
    return script


def versions() -> dict[str, str]:
    """The versions of the libraries the page embeds (said in its footer)."""
    return {
        "vega": vlc.get_vega_version(),
        "vega-lite": vega_lite_version(),
        "vega-embed": vlc.get_vega_embed_version(),
        "altair": alt.__version__,
    }
