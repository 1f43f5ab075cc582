"""Which landmark features the marks input gets, chosen by scores across sources (never on Happy House).

faces: each face source left out in turn (up to 4,000 photos of each, cnnapp's `sampled`), fitted on the other
three: the smile features now (`smile_features`, 40 lip-point numbers) against the 8 ratios they replaced
(`eight_ratios` below), by a logistic regression and an MLP, two ways: "no face" (fitted on faces found, a photo
with no face read as not smiling) and "marks" (the features with NaN as 0 and a found column, on all photos). Each
cell: accuracy over all photos / AUC over photos with a face. Then the MLP ("no face") over seeds 0-4.

hands: `turned`, `distances` and both, by a logistic regression and an MLP, fitted on found hands, in three tests:
sign-digits 0-5 -> signs-photos test, signs-photos train -> sign-digits 0-5, and sign-digits 0-5 in 5 folds by
student (mean over folds). Each cell: accuracy on found hands / with no hand counted wrong. Then the MLP's first
test over seeds 0-4.

Prints the fp32 matmul peak first. Landmarks come from the cache (found once, slowly, when missing).

  CNNAPP_DATA=~/datasets python benchmarks/landmark_features.py [faces|hands]
"""

import argparse
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GroupKFold
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from cnnapp.data.datasets import load_dataset, sampled, select_classes
from cnnapp.data.hands import dataset_hands, distance_features, turned_features
from cnnapp.data.landmarks import dataset_landmarks, smile_features
from cnnapp.data.splits import group_ids

from serve_attacks import matmul_gflops

FACES = ["smiles", "genki4k", "celeba-10k", "mtfl-net"]
MOST = 4000
SEEDS = range(5)
KINDS = ["logistic", "mlp"]
STUDENTS = r"IMG_(\d+)\d"


def eight_ratios(points: np.ndarray) -> np.ndarray:
    """The smile features before the lip points (n, 8): mouth width / eye distance, inner and outer lip gap, lip
    centre below the corners and corners below the upper lip (over mouth width), mouth / face width, eye opening,
    lip centre to chin / eye distance; heights measured square to the eye line."""
    xy = points[..., :2].astype(np.float64)
    across = xy[:, [362, 263]].mean(axis=1) - xy[:, [33, 133]].mean(axis=1)
    eyes = np.linalg.norm(across, axis=1)
    down = np.stack([-across[:, 1], across[:, 0]], axis=1) / eyes[:, None]

    def gap(a: int, b: int) -> np.ndarray:
        return np.linalg.norm(xy[:, a] - xy[:, b], axis=1)

    def height(*marks: int) -> np.ndarray:
        return np.einsum("ij,ij->i", xy[:, list(marks)].mean(axis=1), down)

    width, centre, corners = gap(61, 291), height(13, 14), height(61, 291)
    opening = (gap(159, 145) / gap(33, 133) + gap(386, 374) / gap(362, 263)) / 2
    ratios = [width / eyes, gap(13, 14) / width, gap(0, 17) / width, (centre - corners) / width]
    ratios += [(corners - height(0)) / width, width / gap(234, 454), opening, (height(152) - centre) / eyes]
    return np.stack(ratios, axis=1).astype(np.float32)


def model(kind: str, seed: int = 0, **mlp):
    """Standardised features into a logistic regression or an MLP with two layers of 64."""
    if kind == "logistic":
        return make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000))
    return make_pipeline(StandardScaler(), MLPClassifier((64, 64), alpha=1e-3, random_state=seed, **mlp))


def with_found(features: np.ndarray) -> np.ndarray:
    """The features as the marks input holds them: NaN as 0, then 1 where a face was found, else 0."""
    found = ~np.isnan(features).any(axis=1)
    return np.concatenate([np.nan_to_num(features), found[:, None]], axis=1)


def left_out(feats: dict, ys: dict, kind: str, way: str, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Accuracy over all photos and AUC over photos with a face, for each face source left out."""
    accs, aucs = [], []
    for held in FACES:
        f = np.concatenate([feats[n] for n in FACES if n != held])
        y = np.concatenate([ys[n] for n in FACES if n != held])
        test, found = feats[held], ~np.isnan(feats[held]).any(axis=1)
        if way == "marks":
            prob = model(kind, seed, early_stopping=True).fit(with_found(f), y).predict_proba(with_found(test))[:, 1]
        else:
            ok = ~np.isnan(f).any(axis=1)
            prob = np.zeros(len(test))
            prob[found] = model(kind, seed, early_stopping=True).fit(f[ok], y[ok]).predict_proba(test[found])[:, 1]
        accs.append(((prob >= 0.5) == ys[held]).mean())
        aucs.append(roc_auc_score(ys[held][found], prob[found]))
    return np.array(accs), np.array(aucs)


def faces() -> None:
    points, ys = {}, {}
    for name in FACES:
        dataset = sampled(load_dataset(name), MOST)
        points[name] = dataset_landmarks(dataset)
        ys[name] = (dataset.y == dataset.class_names.index("smiling")).astype(int)
        found = (~np.isnan(points[name][:, 0, 0])).sum()
        print(f"{name}: {len(ys[name])} photos, {found} faces, {ys[name].mean():.3f} smiling")
    sets = {"8 ratios (before)": eight_ratios, "lip points (now)": smile_features}
    feats = {label: {n: fn(p) for n, p in points.items()} for label, fn in sets.items()}
    print("\n| features (width) | model | way | " + " | ".join(FACES) + " | mean | worst |")
    print("|---|---|---|" + "---|" * (len(FACES) + 2))
    for way in ["no face", "marks"]:
        for kind in KINDS:
            for label in sets:
                acc, auc = left_out(feats[label], ys, kind, way)
                cells = [f"{a:.3f} / {u:.3f}" for a, u in zip(acc, auc, strict=True)]
                cells += [f"{acc.mean():.3f} / {auc.mean():.3f}", f"{acc.min():.3f} / {auc.min():.3f}"]
                width = feats[label]["smiles"].shape[1]
                print(f"| {label} ({width}) | {kind} | {way} | " + " | ".join(cells) + " |", flush=True)
    print("\nMLP, way 'no face', seeds 0-4: mean ± sd over seeds")
    print("| features | mean accuracy | worst accuracy | mean AUC | worst AUC |\n|---|---|---|---|---|")
    for label in sets:
        runs = [left_out(feats[label], ys, "mlp", "no face", seed) for seed in SEEDS]
        r = np.array([[acc.mean(), acc.min(), auc.mean(), auc.min()] for acc, auc in runs])
        cells = [f"{m:.3f} ± {s:.3f}" for m, s in zip(r.mean(axis=0), r.std(axis=0), strict=True)]
        print(f"| {label} | " + " | ".join(cells) + " |")


def scored(kind: str, train: tuple, test: tuple, seed: int = 0) -> tuple[float, float]:
    """Fitted on train's (features, labels), accuracy on test's (features, labels, found): on found hands, and
    with the photos where no hand was found counted wrong."""
    fitted = model(kind, seed, max_iter=500).fit(*train)
    f, y, found = test
    right = fitted.predict(f[found]) == y[found]
    return right.mean(), right.sum() / len(y)


def hands() -> None:
    digits = select_classes(load_dataset("sign-digits"), list("012345"))
    photos = load_dataset("signs-photos")
    hd, hp = dataset_hands(digits), dataset_hands(photos)
    students = group_ids(digits, STUDENTS)
    tr, te = photos.train[hp.found[photos.train]], photos.test
    print(f"sign-digits 0-5: {hd.found.sum()} / {len(hd.found)} hands, {students.max() + 1} students")
    print(f"signs-photos: {hp.found.sum()} / {len(hp.found)} hands, test {hp.found[te].sum()} / {len(te)}")
    sets = {
        "turned": turned_features,
        "distances": distance_features,
        "both": lambda p: np.concatenate([turned_features(p), distance_features(p)], axis=1),
    }
    print("\n| features (width) | model | digits -> photos test | photos train -> digits | digits, held-out students |")
    print("|---|---|---|---|---|")
    spread = {}
    for label, fn in sets.items():
        fd, fp = fn(hd.points), fn(hp.points)
        digits_found = (fd[hd.found], digits.y[hd.found])
        photos_test = (fp[te], photos.y[te], hp.found[te])
        for kind in KINDS:
            a = scored(kind, digits_found, photos_test)
            b = scored(kind, (fp[tr], photos.y[tr]), (fd, digits.y, hd.found))
            folds = []
            for train, test in GroupKFold(5).split(fd, digits.y, students):
                train = train[hd.found[train]]
                folds.append(scored(kind, (fd[train], digits.y[train]), (fd[test], digits.y[test], hd.found[test])))
            c = np.mean(folds, axis=0)
            cells = " | ".join(f"{found:.3f} / {whole:.3f}" for found, whole in (a, b, c))
            print(f"| {label} ({fd.shape[1]}) | {kind} | {cells} |", flush=True)
        spread[label] = [scored("mlp", digits_found, photos_test, seed)[0] for seed in SEEDS]
    print("\nMLP, digits -> photos test on found hands, seeds 0-4")
    for label, accs in spread.items():
        print(f"  {label}: " + " ".join(f"{a:.3f}" for a in accs) + f", mean {np.mean(accs):.3f}")


def main() -> None:
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    parts = {"faces": faces, "hands": hands}
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("part", nargs="?", choices=list(parts), help="one part only (default: both)")
    args = parser.parse_args()
    print(f"fp32 2048x2048 matmul peak: {matmul_gflops():.1f} GFLOP/s", flush=True)
    for name in [args.part] if args.part else parts:
        parts[name]()


if __name__ == "__main__":
    main()
