"""Image formats: the ``-F`` names Blender accepts and the file extensions each format writes."""

from __future__ import annotations

import re

# -F names Blender accepts, mapped to the image format identifiers of the Python API.
FORMAT_ALIASES = {
    "TGA": "TARGA",
    "RAWTGA": "TARGA_RAW",
    "JP2": "JPEG2000",
    "EXR": "OPEN_EXR",
    "MULTILAYER": "OPEN_EXR_MULTILAYER",
}
# Extensions each image format writes; the first is the one added.
FORMAT_EXTENSIONS: dict[str, tuple[str, ...]] = {
    "PNG": (".png",),
    "JPEG": (".jpg", ".jpeg"),
    "BMP": (".bmp",),
    "IRIS": (".rgb",),
    "HDR": (".hdr",),
    "TIFF": (".tif", ".tiff"),
    "OPEN_EXR": (".exr",),
    "OPEN_EXR_MULTILAYER": (".exr",),
    "CINEON": (".cin",),
    "DPX": (".dpx",),
    "JPEG2000": (".jp2",),
    "WEBP": (".webp",),
    "TARGA": (".tga",),
    "TARGA_RAW": (".tga",),
}
MOVIE_FORMATS = frozenset({"FFMPEG", "AVI_JPEG", "AVI_RAW"})
KNOWN_FORMATS = frozenset(FORMAT_EXTENSIONS) | MOVIE_FORMATS
# Image extensions Blender swaps for the right one instead of appending after them.
IMAGE_EXTENSION = re.compile(
    r"\.(png|tga|bmp|jpe?g|sgi|rgba?|tiff?|tx|jp2|j2c|hdr|dds|dpx|cin|exr|webp|psd|pdd|psb)$",
    re.IGNORECASE,
)
