"""Real photos changed on purpose, the way another photographer would take them: mirrored (the other hand),
turned, nearer or further, off centre. Evaluations use them to show how a model does on photos held other ways.

The frame is extended by reflecting the photo at its edges before it is turned, rescaled or shifted, so no
blank corners appear (a plain background continues as itself).
"""

from dataclasses import dataclass

import numpy as np
from PIL import Image

SIDE = 64
"""The side of the square photos cnnapp's models take."""


@dataclass(frozen=True)
class Variant:
    """One change of a photo, applied in this order: mirror left-right, turn, rescale, shift, lower resolution."""

    name: str
    mirror: bool = False
    turn: float = 0.0  # degrees, anticlockwise
    scale: float = 1.0  # above 1 the subject looks nearer (larger), below 1 further
    shift: tuple[float, float] = (0.0, 0.0)  # the subject moves right and down by these shares of the side
    pixels: int | None = None  # the photo as if taken with only this many pixels a side, enlarged back


VARIANTS = (
    Variant("as taken"),
    Variant("mirrored", mirror=True),
    Variant("turned -90", turn=-90),
    Variant("turned -45", turn=-45),
    Variant("turned +45", turn=45),
    Variant("turned +90", turn=90),
    Variant("mirrored, turned -90", mirror=True, turn=-90),
    Variant("mirrored, turned +45", mirror=True, turn=45),
    Variant("further (0.75x)", scale=0.75),
    Variant("nearer (1.25x)", scale=1.25),
    Variant("shifted right and down", shift=(0.15, 0.15)),
    Variant("shifted left and up", shift=(-0.15, -0.15)),
    Variant("mirrored, turned +30, further, shifted", mirror=True, turn=30, scale=0.8, shift=(0.1, -0.1)),
    Variant("32 pixels a side", pixels=32),
    Variant("16 pixels a side", pixels=16),
)
"""The changes the robustness evaluation scores a run on, the photo as taken first."""


def changed(photo: np.ndarray, variant: Variant) -> np.ndarray:
    """One (side, side, 3) uint8 photo changed as variant says, the same size and type."""
    side = photo.shape[0]
    if variant.mirror:
        photo = photo[:, ::-1]
    wide = Image.fromarray(np.pad(photo, ((side, side), (side, side), (0, 0)), mode="symmetric"))
    if variant.turn % 360:
        wide = wide.rotate(variant.turn, resample=Image.Resampling.BILINEAR)
    seen = side / variant.scale
    left = 1.5 * side - seen / 2 - variant.shift[0] * side
    top = 1.5 * side - seen / 2 - variant.shift[1] * side
    box = (left, top, left + seen, top + seen)
    seen_photo = wide.transform((side, side), Image.Transform.EXTENT, box, Image.Resampling.BILINEAR)
    if variant.pixels:
        small = seen_photo.resize((variant.pixels, variant.pixels), Image.Resampling.BOX)
        seen_photo = small.resize((side, side), Image.Resampling.BILINEAR)
    return np.asarray(seen_photo)


def changed_all(photos: np.ndarray, variant: Variant) -> np.ndarray:
    """(n, side, side, 3) uint8 photos, each changed as variant says."""
    return np.stack([changed(photo, variant) for photo in photos]) if len(photos) else photos.copy()
