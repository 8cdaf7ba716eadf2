"""The file extension each Maya renderer writes for the image format names it uses.

A scene names its image format the way its renderer does: Arnold's driver (the
``aiTranslator`` of ``defaultArnoldDriver``: ``jpeg``, ``deepexr``, ``tif``...), V-Ray's
``imageFormatStr`` (``exr (multichannel)``, ``exr (deep)``...), RenderMan's display drivers
(``openexr``, ``tiff``...), Redshift's and Maya's own format names. The files on disk carry
the short extension: Arnold's ``jpeg`` driver writes ``.jpg``, ``deepexr`` writes ``.exr``.
The runner looks for each frame under the extension the renderer really writes.
"""

from __future__ import annotations

#: Format names shared by Maya and its renderers, and the extension written for each: Arnold's
#: drivers (``jpeg``, ``deepexr``, ``tif``, ``exr``, ``png``), RenderMan's display drivers
#: (``openexr``, ``deepexr``, ``tiff``), Redshift's and Maya's names.
_COMMON = {
    "jpeg": "jpg",
    "tiff": "tif",
    "openexr": "exr",
    "deepexr": "exr",
    "targa": "tga",
}

#: Names only one renderer uses.
_BY_RENDERER: dict[str, dict[str, str]] = {
    # V-Ray for Maya: vraySettings.imageFormatStr
    "vray": {"exr (multichannel)": "exr", "exr (deep)": "exr"},
}


def file_extension(renderer: str, format_name: str) -> str:
    """The extension (no dot) of the files ``renderer`` writes for ``format_name``.

    Names that are extensions already (``exr``, ``png``, ``iff``) stay as they are,
    lower-cased.
    """
    name = format_name.strip().lower()
    return _BY_RENDERER.get(renderer, {}).get(name) or _COMMON.get(name) or name
