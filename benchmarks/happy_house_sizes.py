"""A smile run on all 150 Happy House photos, as they are (64x64) and scaled up 4x into a frame twice as large.

The photos are read with cnnapp's course-file reader (test_happy.h5). The 64x64 photos are scored as `cnnapp
evaluate RUN --data test_happy.h5` scores them; the scaled ones (256x256, in the middle of a black 512x512 frame)
as `cnnapp predict` and `cnnapp.load(RUN).predict` answer a photo file. Prints the accuracy of both (and of each
class at 64x64), how many answers agree, and in how many photos a face was found, for a run that crops to the face.
For a diagnosis, not a recipe, it also prints on the 64x64 photos: how well the run ranks them (ROC AUC of the last
class's probability), the mean of that probability, and the accuracy at the best cut of it, a cut chosen on these test
photos themselves.

  CNNAPP_DATA=~/datasets python benchmarks/happy_house_sizes.py runs/smile-net-faces
"""

import argparse
import json

import numpy as np
from PIL import Image
from sklearn.metrics import roc_auc_score

from cnnapp.data.datasets import load_dataset
from cnnapp.evaluation.reuse import evaluate_run
from cnnapp.inference import load
from cnnapp.settings import data_dir


def scaled_and_padded(image: np.ndarray, scale: int = 4) -> Image.Image:
    """A photo scaled up, in the middle of a black frame twice as large."""
    big = Image.fromarray(image).resize((image.shape[1] * scale, image.shape[0] * scale), Image.Resampling.BICUBIC)
    frame = Image.new("RGB", (2 * big.width, 2 * big.height))
    frame.paste(big, (big.width // 2, big.height // 2))
    return frame


def best_cut_accuracy(scores: np.ndarray, labels: np.ndarray) -> float:
    """The highest accuracy of "last class when the score is at least the cut" over every cut."""
    return max(float(((scores >= cut) == labels).mean()) for cut in np.unique(scores))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run")
    run = parser.parse_args().run
    happy = load_dataset(str(data_dir() / "test_happy.h5"))
    as_they_are = evaluate_run(run, happy)
    predictor = load(run)
    answers = predictor.predict([scaled_and_padded(image) for image in happy.x])
    names = predictor.class_names
    scaled = np.array([names.index(answer.label) for answer in answers])
    small = predictor.predict(list(happy.x))
    same = sum(a.label == b.label for a, b in zip(small, answers, strict=True))
    last = np.array([answer.probabilities[names[-1]] for answer in small])
    positive = happy.y == len(names) - 1
    faces = [answer.face for answer in answers]
    print(
        json.dumps(
            {
                "run": run,
                "photos": len(happy.y),
                "accuracy_64x64": round(as_they_are.accuracy, 4),
                "per_class_accuracy_64x64": {name: round(a, 4) for name, a in as_they_are.per_class_accuracy.items()},
                "accuracy_scaled_4x_padded": round(float((scaled == happy.y).mean()), 4),
                "same_answers": same,
                "faces_found_64x64": None if small[0].face is None else sum(a.face for a in small),
                "faces_found_scaled": None if faces[0] is None else sum(faces),
                "auc_64x64": round(float(roc_auc_score(positive, last)), 3),
                "mean_probability_of_last_class": round(float(last.mean()), 3),
                "best_cut_accuracy_64x64": round(best_cut_accuracy(last, positive), 4),
            }
        )
    )


if __name__ == "__main__":
    main()
