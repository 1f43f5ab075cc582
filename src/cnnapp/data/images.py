"""Decoding one photo of any common format into the 64x64 RGB array the models take."""

import warnings
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from cnnapp.errors import CnnappError
from cnnapp.settings import IMAGE_SIZE

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif")
FORMATS = ("JPEG", "PNG", "BMP", "GIF")
"""The formats cnnapp decodes: Pillow is never asked to open a file as any other."""
MAX_PIXELS = 60_000_000
"""Larger images are refused as likely decompression bombs (about 7,700 pixels a side)."""
DECODE_PIXELS = 25_000_000
"""Most pixels decoded from one photo (5,000 a side). A JPEG is reduced towards the size needed while it is
decoded, so a phone's photo stays far below; a PNG, BMP or GIF above is refused before its pixels are read."""
OTHER_FORMATS = {
    b"II*\x00": "TIFF",
    b"MM\x00*": "TIFF",
    b"%!PS": "PostScript (EPS)",
    b"\xc5\xd0\xd3\xc6": "PostScript (EPS)",
    b"%PDF": "PDF",
    b"8BPS": "Photoshop (PSD)",
    b"\xffO\xffQ": "JPEG 2000",
    b"\x00\x00\x00\x0cjP  ": "JPEG 2000",
}
"""First bytes of image formats people send that cnnapp refuses, and the format's name for the message."""

Image.MAX_IMAGE_PIXELS = MAX_PIXELS


def is_image_file(path: Path) -> bool:
    """True for a visible file whose suffix is one cnnapp reads."""
    return path.suffix.lower() in IMAGE_SUFFIXES and not path.name.startswith(".")


def to_rgb(image: Image.Image) -> Image.Image:
    """The image as 8-bit RGB: EXIF rotation applied, alpha laid on white, 16-bit scaled down."""
    image = ImageOps.exif_transpose(image)
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        wide = np.asarray(image, dtype=np.float64)
        peak = 65535.0 if image.mode.startswith("I;16") or wide.max() > 255 else 255.0
        image = Image.fromarray(np.clip(wide / peak * 255.0 + 0.5, 0, 255).astype(np.uint8))
    if image.mode == "F":
        image = Image.fromarray(np.clip(np.asarray(image), 0, 255).astype(np.uint8))
    if image.mode in ("P", "LA", "PA") or (image.mode == "L" and "transparency" in image.info):
        image = image.convert("RGBA")
    if image.mode == "RGBA":
        white = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, image)
    return image.convert("RGB")


def fit_square(image: Image.Image, size: int = IMAGE_SIZE) -> np.ndarray:
    """The centre square of an RGB image, resized to size x size, as a uint8 array."""
    square = ImageOps.fit(image, (size, size), method=Image.Resampling.LANCZOS)
    return np.asarray(square, dtype=np.uint8)


OPEN_SIZE = 1024
"""A photo opened whole (for finding a face in it) is cut down to about this many pixels on its longer side."""


def first_bytes(file: Path | BinaryIO, n: int = 16) -> bytes:
    """The first n bytes of a file (a path or an open binary file, left at its start)."""
    if isinstance(file, Path):
        with file.open("rb") as opened:
            return opened.read(n)
    file.seek(0)
    head = file.read(n)
    file.seek(0)
    return head


def other_format(head: bytes) -> str | None:
    """The name of the refused image format a file's first bytes show, if any."""
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WebP"
    if head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"mif1", b"avif"):
        return "HEIF/AVIF"
    return next((name for start, name in OTHER_FORMATS.items() if head.startswith(start)), None)


def not_read(file: Path | BinaryIO) -> str:
    """Why Pillow opens none of FORMATS from this file, naming its real format when it is a known image format."""
    kind = other_format(first_bytes(file))
    if kind:
        return f"a {kind} image; cnnapp reads only JPEG, PNG, BMP or GIF"
    return "not an image cnnapp can read (JPEG, PNG, BMP or GIF)"


def opened(file: Path | BinaryIO) -> Image.Image:
    """The image file opened as one of FORMATS (its header read, no pixels yet); images above MAX_PIXELS raise
    Pillow's decompression bomb error."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        return Image.open(file, formats=FORMATS)


def decode_pixels(file: Path | BinaryIO, size: int = IMAGE_SIZE) -> int:
    """How many pixels decoding the file at about size pixels takes (a progressive JPEG holds all of its own
    while it is reduced); 0 for a file refused without decoding. An open file is left at its start."""
    try:
        with opened(file) as image:
            whole = image.width * image.height
            image.draft(None, (size * 2, size * 2))
            if image.width * image.height > DECODE_PIXELS:
                return 0
            return whole if image.info.get("progressive") else image.width * image.height
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        return 0
    finally:
        if not isinstance(file, Path):
            file.seek(0)


def open_photo(path: Path | str | BinaryIO, size: int = IMAGE_SIZE, name: str | None = None) -> Image.Image:
    """One image file (a path or an open binary file) as an RGB PIL image, decoded at about size pixels (JPEGs
    are decoded at the scale nearest above twice that); CnnappError naming the file (name, else the path) if it
    cannot be read, is not one of FORMATS, or needs more than DECODE_PIXELS."""
    path = Path(path) if isinstance(path, str) else path
    shown = name or path
    if isinstance(path, Path) and path.exists() and not path.is_file() and not path.is_dir():
        raise CnnappError(f"{shown}: not a regular file (a pipe, socket or device is not read)")
    try:
        with opened(path) as image:
            image.draft(None, (size * 2, size * 2))
            if image.width * image.height > DECODE_PIXELS:
                raise CnnappError(
                    f"{shown}: image too large to decode ({image.width}x{image.height} pixels, over {DECODE_PIXELS:,})"
                )
            image.load()
            return to_rgb(image)
    except FileNotFoundError:
        raise CnnappError(f"{shown}: no such file") from None
    except IsADirectoryError:
        raise CnnappError(f"{shown}: is a directory, not an image") from None
    except UnidentifiedImageError:
        raise CnnappError(f"{shown}: {not_read(path)}") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise CnnappError(f"{shown}: image too large (over {MAX_PIXELS:,} pixels)") from None
    except (OSError, SyntaxError, ValueError) as error:
        raise CnnappError(f"{shown}: unreadable image ({error})") from None


def read_image(path: Path | str | BinaryIO, size: int = IMAGE_SIZE, name: str | None = None) -> np.ndarray:
    """One image file (a path or an open binary file) as a (size, size, 3) uint8 array.

    CnnappError naming the file (name, else the path) if it cannot be read.
    """
    return fit_square(open_photo(path, size, name), size)


def read_whole(path: Path | str | BinaryIO, name: str | None = None) -> Image.Image:
    """One image file as an RGB PIL image of at most about OPEN_SIZE pixels a side, for finding a face in it."""
    image = open_photo(path, OPEN_SIZE // 2, name)
    image.thumbnail((OPEN_SIZE, OPEN_SIZE), Image.Resampling.LANCZOS)
    return image


def from_pil(image: Image.Image, size: int = IMAGE_SIZE) -> np.ndarray:
    """An already opened PIL image as a (size, size, 3) uint8 array."""
    return fit_square(to_rgb(image), size)


def array_image(array: np.ndarray) -> Image.Image:
    """An (H, W), (H, W, 1|3|4) uint8 array, or floats in [0, 1], as an RGB PIL image of its own size."""
    array = np.asarray(array)
    if array.dtype != np.uint8:
        if array.size and (array.min() < 0 or array.max() > 1):
            raise CnnappError(f"array of dtype {array.dtype} must hold values in [0, 1], or be uint8")
        array = np.round(array * 255.0).astype(np.uint8)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)):
        raise CnnappError(f"array of shape {array.shape} is not an image (H, W) or (H, W, 1|3|4)")
    return to_rgb(Image.fromarray(array))


def from_array(array: np.ndarray, size: int = IMAGE_SIZE) -> np.ndarray:
    """An (H, W), (H, W, 1|3|4) uint8 array, or floats in [0, 1], as a (size, size, 3) uint8 array."""
    array = np.asarray(array)
    if array.dtype == np.uint8 and array.shape == (size, size, 3):
        return array
    return fit_square(array_image(array), size)


def scale(images: np.ndarray) -> np.ndarray:
    """uint8 pixels as the float32 values in [0, 1] that the models take."""
    return images.astype(np.float32) / 255.0


def model_inputs(images: np.ndarray, marks: np.ndarray | None = None) -> np.ndarray | list[np.ndarray]:
    """What a model takes for uint8 images: their scaled pixels, and beside them their marks when it reads marks."""
    return scale(images) if marks is None else [scale(images), marks.astype(np.float32)]
