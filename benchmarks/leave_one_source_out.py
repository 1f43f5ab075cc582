"""A recipe's figures on a source it never saw: for each of its sources, train the recipe on the others, then score
the run on the one left out. This is how the smile gate's and the sign reader's settings are chosen; Happy House and
the SIGNS test photos are never used to choose.

  CNNAPP_DATA=~/datasets python benchmarks/leave_one_source_out.py smile-gate --out runs/loso [--seed 1]
  CNNAPP_DATA=~/datasets python benchmarks/leave_one_source_out.py sign-reader --out runs/loso [--seed 1]
  ... --left-out smiles,genki4k    # only these sources left out (two calls can share the work)
  ... --out runs/loso-30 -- --epochs 30    # a variant: what follows -- goes to each `cnnapp train`
  ... --weights 0,0.5,0.6,1    # also the accuracy with the landmark vote weighing each of these in the average

Each training is `cnnapp train RECIPE --data OTHERS --seed S --out OUT/RECIPE-without-SOURCE [OPTIONS]` (kept, so a
second call only scores). The left-out source is scored whole as the recipe would take it: a face source drawn down
as the smile gate draws it (its 4,000 photos), sign-language-digits 0-5 all 1,237 photos. A source that ships its
own split gets two rows: its training photos, which are what settings are chosen on, and its test photos (for
signs-photos the course's 120 test photos, only ever a test); the run never saw any of them. Prints the fp32 matmul
peak first, then a row per source: photos scored, faces or hands found, the accuracy of the network alone and with
its landmark vote (training/vote.py; fitted here as training fits it for a run made before the vote existed), the
training's seconds; with --weights, a second table: the accuracy with the same vote weighing each weight.
"""

import argparse
import subprocess
import sys
from pathlib import Path

import numpy as np

from cnnapp.cli.model_cmds import chosen_data
from cnnapp.data.datasets import Dataset, load_dataset, parse_classes, sampled, select_classes
from cnnapp.data.splits import split_dataset
from cnnapp.data.views import seen_dataset
from cnnapp.evaluation.evaluate import probabilities
from cnnapp.evaluation.reuse import load_model
from cnnapp.models.catalog import Recipe, recipe
from cnnapp.models.nets import VOTE, with_landmark_vote, without_vote
from cnnapp.runs import Run, read_run
from cnnapp.training.vote import voting

from serve_attacks import matmul_gflops


def left_out(name: str, most: int | None, classes: str | None) -> Dataset:
    """The left-out source as it is scored: drawn down as the recipe draws it, with the recipe's classes."""
    dataset = load_dataset(name)
    if classes:
        dataset = select_classes(dataset, parse_classes(classes))
    return sampled(dataset, most) if most else dataset


def scored_parts(data: Dataset) -> list[tuple[str, np.ndarray]]:
    """What of a left-out source is scored, by name: all of it, or its own training and test photos apart."""
    if data.test is None:
        return [("", np.arange(len(data.y)))]
    return [(" (train)", data.train), (" (test)", data.test)]


def with_vote(run: Run, others: str, chosen: Recipe):
    """The run's model with its landmark vote; a run trained before the vote existed gets it fitted here exactly as
    training fits it (on the marks of its training photos, split again by its seed)."""
    model = load_model(run)
    if without_vote(model) is not model:
        return model
    data = chosen_data(others, chosen.classes, chosen.most_per_source)
    train = split_dataset(data, run.seed, groups=chosen.groups).train
    seen = seen_dataset(data, run.view)
    return voting(model, seen.marks[train], seen.y[train], chosen.binary, run.train_config.vote_weight)


def reweighted(model, weight: float):
    """The model with its landmark vote weighing weight in the average."""
    return with_landmark_vote(without_vote(model), *model.get_layer(VOTE).get_weights(), weight)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("recipe", choices=["smile-gate", "sign-reader"])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--left-out", help="comma-separated sources to leave out in turn (default: each)")
    parser.add_argument("--weights", help="comma-separated weights of the landmark vote to score each source with")
    given = sys.argv[1:]
    cut = given.index("--") if "--" in given else len(given)
    args, options = parser.parse_args(given[:cut]), given[cut + 1 :]  # after --: more options for each training
    chosen = recipe(args.recipe)
    sources = chosen.data.split(",")
    left = args.left_out.split(",") if args.left_out else sources
    print(f"fp32 2048x2048 matmul peak: {matmul_gflops():.1f} GFLOP/s", flush=True)
    weights = [float(w) for w in args.weights.split(",")] if args.weights else []
    rows, weighed = [], []
    for source in left:
        others = ",".join(s for s in sources if s != source)
        out = args.out / f"{args.recipe}-without-{source}"
        if not out.exists():
            command = ["cnnapp", "train", args.recipe, "--data", others, "--seed", str(args.seed), "--out", str(out)]
            command += options
            print(" ".join(command), flush=True)
            subprocess.run([sys.executable, "-m", "cnnapp", *command[1:]], check=True)
        run = read_run(out)
        data = left_out(source, chosen.most_per_source, chosen.classes)
        seen = seen_dataset(data, run.view)
        model = with_vote(run, others, chosen)
        for part, which in scored_parts(data):
            inputs = (seen.x[which], seen.marks[which])
            right = [
                float(np.mean(probabilities(m, *inputs).argmax(axis=1) == data.y[which]))
                for m in (without_vote(model), model)
            ]
            found = int(seen.marks[which, -1].sum())
            rows.append((source + part, len(which), found, *right, run.training.seconds))
            weighed.append([np.mean(probabilities(reweighted(model, w), *inputs).argmax(axis=1) == data.y[which])
                            for w in weights])  # fmt: skip
    thing = "faces" if chosen.marks == "face" else "hands"
    print(f"\n| left out | photos | {thing} found | network alone | with the landmark vote | training s |")
    print("|---|---:|---:|---:|---:|---:|")
    for source, n, found, alone, voted, seconds in rows:
        print(f"| {source} | {n} | {found} | {alone:.4f} | {voted:.4f} | {seconds:.0f} |")
    if weights:
        print("\n| left out | " + " | ".join(f"vote weighing {w:g}" for w in weights) + " |")
        print("|---|" + "---:|" * len(weights))
        for row, scores in zip(rows, weighed, strict=True):
            print(f"| {row[0]} | " + " | ".join(f"{a:.4f}" for a in scores) + " |")


if __name__ == "__main__":
    main()
