"""Does a run give the same answer on a photo and on the same photo larger, with more around it? Each of Happy
House's 150 test photos (64x64) is answered as it is and scaled 4x (bicubic) into the middle of a grey frame twice
as large (512x512), both through `cnnapp.load(RUN).predict`, the way a user's photo goes (face found, landmarks,
crop). Prints how many answers agree and the accuracy of each. Happy House is a test here, never a choice.

  CNNAPP_DATA=~/datasets python benchmarks/scaled_photos.py RUN [--data happy-house]
"""

import argparse

import numpy as np
from PIL import Image

import cnnapp
from cnnapp.data.datasets import load_dataset

SCALE = 4
FRAME = 2
GREY = (128, 128, 128)


def scaled_in_frame(image: np.ndarray) -> Image.Image:
    """The photo SCALE times larger in the middle of a grey frame FRAME times larger still."""
    big = Image.fromarray(image).resize((image.shape[1] * SCALE, image.shape[0] * SCALE), Image.Resampling.BICUBIC)
    frame = Image.new("RGB", (big.width * FRAME, big.height * FRAME), GREY)
    frame.paste(big, ((frame.width - big.width) // 2, (frame.height - big.height) // 2))
    return frame


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run")
    parser.add_argument("--data", default="happy-house")
    args = parser.parse_args()
    dataset = load_dataset(args.data)
    which = dataset.test if dataset.test is not None else np.arange(len(dataset.y))
    model = cnnapp.load(args.run)
    labels = [dataset.class_names[dataset.y[i]] for i in which]
    plain = model.predict([dataset.x[i] for i in which])
    larger = model.predict([scaled_in_frame(dataset.x[i]) for i in which])
    same = sum(a.label == b.label for a, b in zip(plain, larger, strict=True))
    print(f"{args.run} on {args.data}'s {len(which)} test photos, as they are and {SCALE}x in a frame {FRAME}x larger")
    for name, answers in (("as they are", plain), (f"{SCALE}x in a frame", larger)):
        right = np.mean([a.label == truth for a, truth in zip(answers, labels, strict=True)])
        hands = any(a.hand is not None for a in answers)
        found = sum(bool(a.hand if hands else a.face) for a in answers)
        print(f"  {name:<16} accuracy {right:.4f}, {'hands' if hands else 'faces'} found {found}/{len(which)}")
    print(f"  same answer on {same} of {len(which)}")


if __name__ == "__main__":
    main()
