"""How often the face step finds a face, and how long it takes a photo, on real photos at several sizes.

Photos: all 150 of Happy House's test_happy.h5 (64x64 colour, head and shoulders), the same scaled up 4x and laid in
the middle of a black frame twice as large (512x512), and every 130th smiles photo (64x64 grey face crops). Each set
goes through cnnapp's find_faces (MTCNN, see src/cnnapp/data/faces.py) in one batch, and one photo at a time (the
first photo of a set is not timed: it loads the detector).

  CNNAPP_DATA=~/datasets python benchmarks/face_detection.py
"""

import time

import numpy as np
from PIL import Image

from cnnapp.data.course import read_course_file
from cnnapp.data.datasets import load_dataset
from cnnapp.data.faces import find_faces
from cnnapp.settings import data_dir


def scaled_and_padded(photo: Image.Image, scale: int = 4) -> Image.Image:
    """The photo scaled up, in the middle of a black frame twice as large."""
    big = photo.resize((photo.width * scale, photo.height * scale), Image.Resampling.BICUBIC)
    frame = Image.new("RGB", (2 * big.width, 2 * big.height))
    frame.paste(big, (big.width // 2, big.height // 2))
    return frame


def measured(photos: list[Image.Image]) -> tuple[int, float, float]:
    """Faces found, milliseconds a photo in one batch, milliseconds a photo one at a time."""
    find_faces(photos[:1])
    start = time.perf_counter()
    found = find_faces(photos)
    batch = (time.perf_counter() - start) / len(photos)
    start = time.perf_counter()
    for photo in photos:
        find_faces([photo])
    single = (time.perf_counter() - start) / len(photos)
    return sum(face is not None for face in found), 1000 * batch, 1000 * single


def main() -> None:
    x, _, _ = read_course_file(data_dir() / "test_happy.h5", "test")
    happy = [Image.fromarray(image) for image in x]
    smiles = load_dataset("smiles").x[::130]
    sets = {
        "Happy House 64x64": happy,
        "Happy House x4 in a 512x512 frame": [scaled_and_padded(photo) for photo in happy],
        "smiles 64x64, every 130th": [Image.fromarray(image) for image in np.asarray(smiles)],
    }
    print("| photos | faces found | ms a photo, batch | ms a photo, one at a time |")
    print("|---|---|---|---|")
    for name, photos in sets.items():
        found, batch, single = measured(photos)
        print(f"| {name} | {found}/{len(photos)} | {batch:.1f} | {single:.1f} |", flush=True)


if __name__ == "__main__":
    main()
