"""A saved run scored on its evaluation photos changed on purpose (mirrored, turned, rescaled, shifted): how it does
on the same real photos held other ways, written into the run folder as variants.json."""

from dataclasses import asdict, dataclass
from pathlib import Path

from cnnapp.data.datasets import Dataset
from cnnapp.data.variants import VARIANTS, Variant, changed_all
from cnnapp.errors import CnnappError
from cnnapp.evaluation.evaluate import result_of
from cnnapp.evaluation.reuse import checked_probabilities, images_to_evaluate, load_model
from cnnapp.runs import Result, read_run, write_json

VARIANTS_FILE = "variants.json"


@dataclass(frozen=True)
class Robustness:
    """A run's results on one set of evaluation photos, once per variant (the photos as taken first)."""

    images: str  # which photos, in words
    scored: list[tuple[Variant, Result]]

    @property
    def worst(self) -> tuple[Variant, Result]:
        return min(self.scored, key=lambda pair: pair[1].accuracy)

    def as_json(self) -> dict:
        """What variants.json holds: the photos, then per variant its change, accuracy, loss and per-class accuracy."""
        worst, lowest = self.worst
        return {
            "evaluated_on": self.images,
            "n": self.scored[0][1].n,
            "what": "the same real photos, each changed as the variant says (not other photos)",
            "variants": [
                asdict(variant)
                | {"accuracy": result.accuracy, "loss": result.loss, "per_class_accuracy": result.per_class_accuracy}
                for variant, result in self.scored
            ],
            "lowest": {"name": worst.name, "accuracy": lowest.accuracy},
        }


def evaluate_variants(run_dir: Path | str, dataset: Dataset, variants: tuple[Variant, ...] = VARIANTS) -> Robustness:
    """A saved run scored on the photos `cnnapp evaluate` would score it on, once per variant of them."""
    run = read_run(run_dir)
    _, images, marks, labels, described = images_to_evaluate(run, dataset)
    if marks is not None:
        raise CnnappError(
            f"`variants`: {run.path} reads landmarks, which would have to be found again in each changed photo; "
            "score changed photo files with `cnnapp evaluate` instead",
            parameter="variants",
        )
    model = load_model(run)
    scored = []
    for variant in variants:
        probs = checked_probabilities(run, model, changed_all(images, variant))
        scored.append((variant, result_of(probs, labels, run.class_names, described)))
    return Robustness(described, scored)


def record_variants(run_dir: Path | str, robustness: Robustness) -> Path:
    """Write the results into the run folder as variants.json (replacing an older one); its path."""
    path = Path(run_dir) / VARIANTS_FILE
    write_json(path, robustness.as_json())
    return path
