"""Happy House scored by a smile run's features with other readouts, learnt from smiles or (a diagnosis) from it.

A smile model is its features (everything up to its last layer) and a readout (the last layer: a weighted sum of the
features and a threshold). This keeps the run's features and changes the readout, each time scoring all 150 Happy
House photos (test_happy.h5) as the run sees a photo (its face crop and colours):

- as_trained: the run's own answers (its readout, threshold 0.5), as `cnnapp evaluate` gives them;
- cut_from_smiles_validation: the run's own score with the threshold that maximises the mean of the two classes'
  accuracies on the run's validation photos (chosen on smiles, so a recipe could use it);
- readout_fit_on_smiles: a new logistic-regression readout of the features, fit on READOUT_PHOTOS of the run's
  training photos with smiles' labels;
- happy_house_cv: a diagnosis only, never a recipe (it learns from Happy House's own labels): a logistic-regression
  readout fit on Happy House's labels, scored on the photos it did not see (stratified 10-fold cross-validation,
  repeated REPEATS times, mean and spread); own_score_cut_happy_house_cv is the same for the run's score alone (a
  threshold learnt from Happy House), and pixels_happy_house_cv for the pixels the run sees instead of its features
  (a control: how easy Happy House is to learn from its own labels without anything smiles taught).

  CNNAPP_DATA=~/datasets python benchmarks/happy_house_readout.py runs/smiles-faces/seed-1
"""

import argparse
import json

import keras
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from cnnapp.data.datasets import load_dataset
from cnnapp.data.images import scale
from cnnapp.data.splits import split_dataset
from cnnapp.data.views import seen_dataset
from cnnapp.evaluation.reuse import images_to_evaluate, load_model, matched
from cnnapp.runs import read_run
from cnnapp.settings import data_dir

READOUT_PHOTOS = 3000
"""How many of the run's training photos (drawn with the run's seed) a readout is fit on."""
REPEATS = 5
"""How many times the 10-fold cross-validation on Happy House is repeated, with other folds each time."""


def readout() -> Pipeline:
    """A logistic-regression readout of standardised features."""
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000))


def balanced_cut(scores: np.ndarray, labels: np.ndarray) -> float:
    """The threshold on scores that maximises the mean of the two classes' accuracies."""
    cuts = np.unique(scores)
    means = [((scores[labels == 1] >= cut).mean() + (scores[labels == 0] < cut).mean()) / 2 for cut in cuts]
    return float(cuts[int(np.argmax(means))])


def cross_validated(features: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """Mean and standard deviation over REPEATS of a readout's 10-fold cross-validated accuracy."""
    scores = []
    for repeat in range(REPEATS):
        folds = StratifiedKFold(10, shuffle=True, random_state=repeat)
        scores.append((cross_val_predict(readout(), features, labels, cv=folds) == labels).mean())
    return round(float(np.mean(scores)), 4), round(float(np.std(scores)), 4)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run")
    path = parser.parse_args().run
    run = read_run(path)
    model = load_model(run)
    both = keras.Model(model.inputs, [model.layers[-1].input, model.outputs[0]])

    def features_and_scores(seen: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        features, scores = both.predict(scale(seen), batch_size=256, verbose=0)
        return features.reshape(len(seen), -1), scores[:, -1]

    _, happy_seen, _, happy_y, _ = images_to_evaluate(run, load_dataset(str(data_dir() / "test_happy.h5")))
    happy_features, happy_scores = features_and_scores(happy_seen)
    smiles = matched(run, load_dataset(run.data.source))
    recorded = run.split
    split = split_dataset(smiles, run.seed, tuple(recorded.fractions), recorded.groups)
    seen = seen_dataset(smiles, run.view).x
    _, validation_scores = features_and_scores(seen[split.val])
    cut = balanced_cut(validation_scores, smiles.y[split.val])
    rng = np.random.default_rng(run.seed)
    some = rng.choice(split.train, min(READOUT_PHOTOS, len(split.train)), replace=False)
    fitted = readout().fit(features_and_scores(seen[some])[0], smiles.y[some])
    print(
        json.dumps(
            {
                "run": path,
                "photos": len(happy_y),
                "features": happy_features.shape[1],
                "as_trained": round(float(((happy_scores >= 0.5) == happy_y).mean()), 4),
                "cut_from_smiles_validation": round(float(((happy_scores >= cut) == happy_y).mean()), 4),
                "the_cut": round(cut, 3),
                "readout_fit_on_smiles": round(float((fitted.predict(happy_features) == happy_y).mean()), 4),
                "happy_house_cv": cross_validated(happy_features, happy_y),
                "own_score_cut_happy_house_cv": cross_validated(happy_scores[:, None], happy_y),
                "pixels_happy_house_cv": cross_validated(scale(happy_seen).reshape(len(happy_y), -1), happy_y),
            }
        )
    )


if __name__ == "__main__":
    main()
