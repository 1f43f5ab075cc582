"""Real photos turned, mirrored, rescaled and shifted for the robustness evaluation: each change is the one named."""

import numpy as np
import pytest

from cnnapp.data.images import read_image
from cnnapp.data.variants import VARIANTS, Variant, changed, changed_all

from conftest import need_shared


@pytest.fixture(scope="module")
def hands() -> np.ndarray:
    """Four real sign-digit photos, of four digits."""
    folder = need_shared("sign-language-digits") / "sign-language-digits"
    return np.stack([read_image(sorted((folder / d).iterdir())[7]) for d in "0259"])


def test_a_quarter_turn_is_a_quarter_turn_and_turning_back_gives_the_photo(hands):
    for photo in hands:
        left = changed(photo, Variant("left", turn=90))
        assert np.array_equal(left, np.rot90(photo, 1))  # anticlockwise
        assert np.array_equal(changed(photo, Variant("right", turn=-90)), np.rot90(photo, -1))
        assert np.array_equal(changed(left, Variant("back", turn=-90)), photo)
        assert not np.array_equal(left, photo)


def test_half_a_quarter_turn_there_and_back_keeps_the_middle_of_the_photo(hands):
    for photo in hands:
        turned = changed(photo, Variant("turned", turn=45))
        back = changed(turned, Variant("back", turn=-45)).astype(int)
        middle = slice(16, 48)
        assert np.abs(back[middle, middle] - photo[middle, middle]).mean() < 8
        assert (
            np.abs(turned[middle, middle].astype(int) - photo[middle, middle]).mean()
            > 3 * np.abs(back[middle, middle] - photo[middle, middle]).mean()
        )


def test_mirror_shift_and_scale_move_the_pixels_as_named(hands):
    for photo in hands:
        assert np.array_equal(changed(photo, Variant("mirrored", mirror=True)), photo[:, ::-1])
        moved = changed(photo, Variant("right and down", shift=(0.125, 0.25)))
        assert np.array_equal(moved[16:, 8:], photo[:-16, :-8])
        nearer = changed(photo, Variant("nearer", scale=2))
        assert np.abs(nearer[::2, ::2].astype(int) - photo[16:48, 16:48]).mean() < 6
        further = changed(nearer, Variant("further", scale=0.5)).astype(int)
        assert np.abs(further[16:48, 16:48] - photo[16:48, 16:48]).mean() < 6


def test_every_variant_keeps_the_size_and_only_as_taken_keeps_the_photo(hands):
    assert VARIANTS[0].name == "as taken"
    assert len({v.name for v in VARIANTS}) == len(VARIANTS)
    for variant in VARIANTS:
        out = changed_all(hands, variant)
        assert out.shape == hands.shape and out.dtype == np.uint8
        assert np.array_equal(out, hands) == (variant is VARIANTS[0]), variant.name
    angles = {v.turn for v in VARIANTS}
    assert {-90, -45, 45, 90} <= angles and any(v.mirror for v in VARIANTS)


def test_fewer_pixels_keep_the_coarse_picture_and_lose_the_detail(hands):
    for photo in hands:
        assert np.array_equal(changed(photo, Variant("all of them", pixels=64)), photo)
        coarse = changed(photo, Variant("16 pixels", pixels=16)).astype(int)
        blocks = photo.reshape(16, 4, 16, 4, 3).mean(axis=(1, 3))
        assert np.abs(coarse.reshape(16, 4, 16, 4, 3).mean(axis=(1, 3)) - blocks).mean() < 4
        detail = np.abs(np.diff(photo.astype(int), axis=1)).mean()
        assert np.abs(np.diff(coarse, axis=1)).mean() < 0.75 * detail
