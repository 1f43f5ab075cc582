"""Photos of every format and mode the image rules promise, made here, and files that are not photos."""

import numpy as np
import pytest
from PIL import Image

from cnnapp.data.images import decode_pixels, from_array, from_pil, read_image
from cnnapp.errors import CnnappError


def halves(mode: str, size=(80, 40), left=(255, 0, 0), right=(0, 0, 255)) -> Image.Image:
    """An RGB picture red on the left half and blue on the right, converted to mode."""
    array = np.zeros((size[1], size[0], 3), dtype=np.uint8)
    array[:, : size[0] // 2] = left
    array[:, size[0] // 2 :] = right
    return Image.fromarray(array).convert(mode)


def mean_colour(image: np.ndarray) -> np.ndarray:
    return image.reshape(-1, 3).mean(axis=0)


@pytest.mark.parametrize("suffix", [".png", ".bmp", ".gif", ".jpg"])
def test_formats_give_64x64_rgb(tmp_path, suffix):
    path = tmp_path / f"photo{suffix}"
    halves("RGB", size=(90, 90)).save(path)
    image = read_image(path)
    assert image.shape == (64, 64, 3) and image.dtype == np.uint8
    # The centre square keeps red on the left and blue on the right.
    assert image[32, 5, 0] > 200 and image[32, 5, 2] < 60
    assert image[32, 58, 2] > 200 and image[32, 58, 0] < 60


def test_wide_photos_keep_their_centre_square(tmp_path):
    path = tmp_path / "wide.png"
    halves("RGB", size=(300, 100)).save(path)
    image = read_image(path)
    assert image[32, 2, 0] > 200 and image[32, 61, 2] > 200


def test_rgba_lays_transparent_pixels_on_white(tmp_path):
    rgba = np.zeros((64, 64, 4), dtype=np.uint8)
    rgba[:, :32] = (0, 255, 0, 255)
    path = tmp_path / "alpha.png"
    Image.fromarray(rgba, "RGBA").save(path)
    image = read_image(path)
    assert image[10, 10].tolist() == [0, 255, 0]
    assert image[10, 50].tolist() == [255, 255, 255]


def test_palette_grayscale_and_cmyk(tmp_path):
    halves("P").save(tmp_path / "palette.png")
    halves("L").save(tmp_path / "gray.png")
    halves("CMYK").save(tmp_path / "cmyk.jpg")
    palette = read_image(tmp_path / "palette.png")
    assert palette[32, 5, 0] > 200 and palette[32, 58, 2] > 200
    gray = read_image(tmp_path / "gray.png")
    assert (gray[..., 0] == gray[..., 1]).all() and (gray[..., 1] == gray[..., 2]).all()
    cmyk = read_image(tmp_path / "cmyk.jpg")
    assert cmyk[32, 5, 0] > 200 and cmyk[32, 5, 2] < 60


def test_sixteen_bit_grayscale_is_scaled_not_clipped(tmp_path):
    wide = np.full((50, 50), 32768, dtype=np.uint16)
    path = tmp_path / "deep.png"
    Image.fromarray(wide).save(path)
    image = read_image(path)
    assert abs(int(image[20, 20, 0]) - 128) <= 1


def test_exif_orientation_is_applied(tmp_path):
    picture = halves("RGB", size=(64, 64))  # red left, blue right as stored
    exif = Image.Exif()
    exif[0x0112] = 6  # the camera was turned: show the stored picture rotated 90 degrees clockwise
    path = tmp_path / "turned.jpg"
    picture.save(path, exif=exif, quality=95)
    image = read_image(path)
    # Rotated clockwise, the stored left (red) half is now on top.
    assert image[5, 32, 0] > 200 and image[5, 32, 2] < 60
    assert image[58, 32, 2] > 200


def test_a_large_phone_photo(tmp_path):
    path = tmp_path / "big.jpg"
    halves("RGB", size=(3024, 3024)).save(path, quality=90)
    image = read_image(path)
    assert image.shape == (64, 64, 3)
    assert image[32, 5, 0] > 200 and image[32, 58, 2] > 200


def test_animated_gif_uses_its_first_frame(tmp_path):
    frames = [Image.new("RGB", (32, 32), colour) for colour in ((255, 0, 0), (0, 0, 255))]
    path = tmp_path / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:])
    assert mean_colour(read_image(path))[0] > 200


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("text.jpg", b"this is not a photo", "not an image"),
        ("empty.png", b"", "not an image"),
    ],
)
def test_files_that_are_not_photos(tmp_path, name, content, words):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(CnnappError, match=words) as caught:
        read_image(path)
    assert str(caught.value).startswith(str(path))


def test_truncated_photo(tmp_path):
    path = tmp_path / "cut.jpg"
    halves("RGB", size=(200, 200)).save(path, quality=95)
    path.write_bytes(path.read_bytes()[:800])
    with pytest.raises(CnnappError, match="unreadable image"):
        read_image(path)


def test_decompression_bomb_is_refused(tmp_path):
    path = tmp_path / "bomb.png"
    Image.new("1", (40_000, 40_000)).save(path)
    with pytest.raises(CnnappError, match="too large"):
        read_image(path)


def test_arrays_and_pil_images():
    floats = np.zeros((100, 50, 3), dtype=np.float32)
    floats[..., 1] = 1.0
    assert from_array(floats)[0, 0].tolist() == [0, 255, 0]
    assert from_array(np.zeros((64, 64), dtype=np.uint8)).shape == (64, 64, 3)
    assert from_pil(halves("LA")).shape == (64, 64, 3)
    with pytest.raises(CnnappError, match="not an image"):
        from_array(np.zeros((4, 4, 2), dtype=np.uint8))
    with pytest.raises(CnnappError, match=r"\[0, 1\]"):
        from_array(np.full((4, 4, 3), 7.0))


@pytest.mark.parametrize(
    ("format", "named"), [("TIFF", "TIFF"), ("EPS", "PostScript (EPS)"), ("PDF", "PDF"), ("WEBP", "WebP")]
)
def test_other_formats_are_refused_by_their_real_name_whatever_the_suffix(tmp_path, format, named):
    path = tmp_path / "photo.jpg"
    halves("RGB").save(path, format=format)
    with pytest.raises(CnnappError) as caught:
        read_image(path)
    assert str(caught.value) == f"{path}: a {named} image; cnnapp reads only JPEG, PNG, BMP or GIF"
    assert decode_pixels(path) == 0


def test_pixels_past_the_decode_cap_are_refused_before_decoding(tmp_path):
    wide = tmp_path / "wide.png"
    Image.new("1", (6000, 4200)).save(wide)
    with pytest.raises(CnnappError, match=r"too large to decode \(6000x4200 pixels, over 25,000,000\)"):
        read_image(wide)
    assert decode_pixels(wide) == 0
    under = tmp_path / "under.gif"
    Image.new("L", (5000, 5000)).save(under)
    assert read_image(under).shape == (64, 64, 3)
    assert decode_pixels(under) == 25_000_000


def test_a_jpeg_is_counted_at_the_scale_it_is_decoded_unless_progressive(tmp_path):
    plain, progressive = tmp_path / "plain.jpg", tmp_path / "progressive.jpg"
    halves("RGB", size=(8000, 4000)).save(plain)
    halves("RGB", size=(8000, 4000)).save(progressive, progressive=True)
    assert decode_pixels(plain) == 1000 * 500  # an eighth a side, the nearest scale above 128 pixels
    assert decode_pixels(progressive) == 8000 * 4000
    with progressive.open("rb") as file:
        assert decode_pixels(file) == 8000 * 4000 and file.tell() == 0
        assert read_image(file).shape == (64, 64, 3)
