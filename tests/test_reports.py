"""`cnnapp show`, `report` and `runs` on real data and two short real trainings, through the real command."""

import base64
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from cnnapp.data.datasets import load_dataset, select_classes
from cnnapp.data.images import scale
from cnnapp.data.splits import split_dataset
from cnnapp.data.variants import VARIANTS, changed
from cnnapp.evaluation.reuse import load_model
from cnnapp.reports.page import confusion_table, key_values
from cnnapp.runs import TrainConfig, read_run
from cnnapp.training.fit import train_run

from clirun import assert_one_line_error, cnnapp
from conftest import need_shared

REPORT_FILES = {"report.html", "loss.png", "accuracy.png", "confusion.png", "predictions.png"}


def smiles_subset(smiles: Path, out: Path, every: int) -> Path:
    """A small image folder of every nth real smiles photo (links), with readable class folder names."""
    for stored, readable in (("negatives", "not smiling"), ("positives", "smiling")):
        (out / readable).mkdir(parents=True)
        for photo in sorted((smiles / stored).iterdir())[::every]:
            (out / readable / photo.name).symlink_to(photo)
    return out


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> dict[str, str]:
    data = need_shared("sign-language-digits", "smiles")
    return {"CNNAPP_DATA": str(data), "CNNAPP_CACHE": str(tmp_path_factory.getbasetemp() / "cache")}


@pytest.fixture(scope="module")
def runs(env, tmp_path_factory) -> Path:
    """A folder with two finished runs: signs on sign digits 0-5 and happy on a subset of smiles."""
    root = tmp_path_factory.mktemp("reports")
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        signs = select_classes(load_dataset("sign-digits"), [str(i) for i in range(6)])
        train_run("signs", signs, split_dataset(signs, 1), TrainConfig(4, 64, 0.003, 1), root / "runs" / "signs", 0)
        faces = load_dataset(str(smiles_subset(Path(env["CNNAPP_DATA"]) / "smiles", root / "faces", 20)))
        train_run("happy", faces, split_dataset(faces, 2), TrainConfig(2, 16, 0.001, 2), root / "runs" / "happy", 0)
    return root / "runs"


class Tables(HTMLParser):
    """The text of every table cell of an HTML page, by table id, row by row."""

    def __init__(self, html: str):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.current: list[list[str]] | None = None
        self.cell: list[str] | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.current = self.tables.setdefault(dict(attrs).get("id") or f"table-{len(self.tables)}", [])
        elif tag == "tr" and self.current is not None:
            self.current.append([])
        elif tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None and self.current is not None:
            self.current[-1].append("".join(self.cell).strip())
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def photo_tiles(png: Path) -> list[tuple[int, int]]:
    """(height, width) of each photo in a figure: the non-white blobs at least 100 pixels a side."""
    ink = np.asarray(Image.open(png).convert("L")) < 250
    labels, _ = ndimage.label(ink)
    boxes = [(s[0].stop - s[0].start, s[1].stop - s[1].start) for s in ndimage.find_objects(labels)]
    return [box for box in boxes if min(box) >= 100]


@pytest.mark.parametrize("model", ["signs", "happy"])
def test_report_holds_every_figure_and_the_run_s_numbers(runs, env, model):
    run = runs / model
    result = cnnapp("report", str(run), env=env)
    assert result.returncode == 0, result.stderr
    folder = run / "report"
    assert str(folder / "report.html") in result.stdout
    metrics = json.loads((run / "metrics.json").read_text())
    config = json.loads((run / "config.json").read_text())
    pngs = {p.name for p in folder.glob("*.png")}
    has_mistakes = metrics["test_accuracy"] < 1
    assert {p.name for p in folder.iterdir()} == REPORT_FILES | ({"mistakes.png"} if has_mistakes else set())
    html = (folder / "report.html").read_text()
    for name in pngs:
        assert Image.open(folder / name).size[0] >= 400
        assert f"data:image/png;base64,{base64.b64encode((folder / name).read_bytes()).decode()}" in html
    assert all(src.startswith("data:image/png;base64,") for src in re.findall(r'src="([^"]*)"', html))
    for value in [
        config["model"],
        config["data"]["name"],
        config["data"]["fingerprint"],
        config["split"]["described"],
        config["versions"]["keras"],
        config["versions"]["tensorflow-cpu"],
        f"{config['parameters']:,}",
        *config["data"]["class_names"],
    ]:
        assert value in html, value
    tables = Tables(html).tables
    hyper = {row[0]: row[1] for row in tables["hyperparameters"]}
    for key in ("epochs", "batch_size", "learning_rate", "seed"):
        assert hyper[key] == str(config["hyperparameters"][key])
    matrix = tables["confusion-table"]
    assert matrix[0][1:-1] == config["data"]["class_names"]
    assert [[int(n) for n in row[1:-1]] for row in matrix[1:]] == metrics["confusion_matrix"]
    recall = {row[0]: float(row[2]) for row in tables["per-class"][1:]}
    for name, accuracy in metrics["per_class_accuracy"].items():
        assert recall[name] == pytest.approx(accuracy, abs=0.0005)
    totals = {row[0]: int(row[1].replace(",", "")) for row in tables["parameter-totals"]}
    assert totals["total parameters"] == config["parameters"]
    assert totals["trainable parameters"] + totals["non-trainable parameters"] == config["parameters"]
    assert len(tables["architecture"]) - 1 == (9 if model == "signs" else 7)
    assert "not the images the run was tested on" not in html
    assert len(photo_tiles(folder / "predictions.png")) == min(42, metrics["n_test"])


def test_report_on_other_data_is_replaced_atomically_and_never_overwrites_a_stranger(runs, env, tmp_path):
    out = tmp_path / "faces-report"
    for _ in range(2):
        result = cnnapp("report", str(runs / "happy"), "--data", "happy-house", "--out", str(out), env=env)
        assert result.returncode == 0, result.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["faces-report"]
    html = (out / "report.html").read_text()
    matrix = Tables(html).tables["confusion-table"]
    assert sum(int(row[-1]) for row in matrix[1:]) == 150  # the course's test file
    assert "not the images the run was tested on" in html
    stranger = tmp_path / "notes"
    stranger.mkdir()
    (stranger / "keep.txt").write_text("mine")
    result = cnnapp("report", str(runs / "happy"), "--out", str(stranger), env=env)
    assert_one_line_error(result, str(stranger), "not a report folder")
    assert (stranger / "keep.txt").read_text() == "mine"


def test_page_text_is_escaped():
    html = confusion_table([[1, 0], [2, 3]], ["<b>a&b</b>", "x"]) + key_values([("source", "<script>1</script>")], "t")
    assert "<b>" not in html and "<script>" not in html
    assert "&lt;b&gt;a&amp;b&lt;/b&gt;" in html and "&lt;script&gt;1&lt;/script&gt;" in html


def test_report_of_a_folder_that_is_not_a_run(tmp_path, env):
    assert_one_line_error(cnnapp("report", str(tmp_path), env=env), str(tmp_path), "missing")


def test_show_one_image_large(env, tmp_path):
    result = cnnapp("show", "sign-digits", "--index", "124", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    png = tmp_path / "sign-digits-124.png"
    assert str(png.name) in result.stdout and "#124" in result.stdout
    [(height, width)] = photo_tiles(png)
    assert height == width >= 6 * 64
    assert np.asarray(Image.open(png).convert("L")).std() > 20


def test_show_one_class_and_every_class(runs, env, tmp_path):
    result = cnnapp("show", "sign-digits", "--class", "3", "--count", "5", "--out", str(tmp_path / "3.png"), env=env)
    assert result.returncode == 0, result.stderr
    assert len(photo_tiles(tmp_path / "3.png")) == 5
    faces = str(runs.parent / "faces")
    result = cnnapp("show", faces, "--count", "13", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    tiles = photo_tiles(tmp_path / "faces-grid.png")
    assert len(tiles) == 2 * 13 and len(set(tiles)) == 1
    wide, narrow = Image.open(tmp_path / "faces-grid.png").size, Image.open(tmp_path / "3.png").size
    assert wide[0] > narrow[0] and wide[1] > 2 * narrow[1]


def test_show_refuses_what_is_not_there(env, tmp_path):
    for args, words in (
        (["--index", "5000"], ["sign-digits: no image 5000", "0 to 2061"]),
        (["--index", "-1"], ["no image -1"]),
        (["--class", "seven"], ["sign-digits: no class seven", "0, 1, 2"]),
        (["--index", "3", "--class", "3"], ["--index"]),
    ):
        assert_one_line_error(cnnapp("show", "sign-digits", *args, cwd=tmp_path, env=env), *words)
    assert list(tmp_path.iterdir()) == []


def rows_of(stdout: str) -> list[list[str]]:
    return [line.split() for line in stdout.strip().splitlines()[1:]]


def test_runs_lists_both_runs_and_sorts(runs, env):
    accuracy = {m: json.loads((runs / m / "metrics.json").read_text())["test_accuracy"] for m in ("signs", "happy")}
    listed = {}
    for args in ([], ["--sort", "model", "--reverse"], ["--sort", "accuracy"], ["--sort", "time", "--reverse"]):
        result = cnnapp("runs", str(runs), *args, env=env)
        assert result.returncode == 0 and result.stderr == "", result.stderr
        listed[tuple(args)] = [row[1] for row in rows_of(result.stdout)]
    assert listed[()] == ["happy", "signs"]
    assert listed[("--sort", "model", "--reverse")] == ["signs", "happy"]
    assert listed[("--sort", "accuracy")] == sorted(accuracy, key=accuracy.get)
    header, *lines = cnnapp("runs", str(runs), env=env).stdout.strip().splitlines()
    assert header.split()[:3] == ["run", "model", "data"]
    assert f"{accuracy['signs']:.4f}" in lines[1] and str(runs / "signs") in lines[1]
    column = header.index("model")
    assert [line[column:].split()[0] for line in lines] == ["happy", "signs"]


def test_runs_names_a_broken_run_and_lists_the_rest(runs, env, tmp_path):
    shutil.copytree(runs / "signs", tmp_path / "good", ignore=shutil.ignore_patterns("report"))
    (tmp_path / "deep" / "broken").mkdir(parents=True)
    (tmp_path / "deep" / "broken" / "config.json").write_text("{not json")
    (tmp_path / "deep" / "broken" / "metrics.json").write_text("{}")
    result = cnnapp("runs", str(tmp_path), env=env)
    assert result.returncode == 0
    [problem] = result.stderr.strip().splitlines()
    assert str(tmp_path / "deep" / "broken") in problem
    assert [row[0] for row in rows_of(result.stdout)] == [str(tmp_path / "good")]
    assert_one_line_error(cnnapp("runs", str(tmp_path / "nowhere"), env=env), "nowhere", "no such folder")


def test_evaluate_variants_scores_the_run_s_test_photos_changed_each_way(runs, env, monkeypatch):
    monkeypatch.setenv("CNNAPP_DATA", env["CNNAPP_DATA"])
    run = runs / "signs"
    result = cnnapp("evaluate", str(run), "--data", "sign-digits", "--variants", env=env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[-1] == f"written to {run / 'variants.json'}"
    printed = {line[:-16].strip(): float(line.split()[-2]) for line in lines[2 : 2 + len(VARIANTS)]}
    assert list(printed) == [variant.name for variant in VARIANTS]
    written = json.loads((run / "variants.json").read_text())
    metrics = json.loads((run / "metrics.json").read_text())
    assert written["n"] == metrics["n_test"] and "the run's test images" in written["evaluated_on"]
    accuracy = {v["name"]: v["accuracy"] for v in written["variants"]}
    assert accuracy["as taken"] == pytest.approx(metrics["test_accuracy"])
    assert written["lowest"]["accuracy"] == min(accuracy.values())
    config = json.loads((run / "config.json").read_text())
    digits = select_classes(load_dataset("sign-digits"), config["data"]["class_names"])
    test = np.asarray(config["split"]["test_indices"])
    model = load_model(read_run(run))
    for variant in (VARIANTS[1], VARIANTS[5]):
        photos = np.stack([changed(photo, variant) for photo in digits.x[test]])
        right = model.predict(scale(photos), verbose=0).argmax(axis=1) == digits.y[test]
        assert accuracy[variant.name] == pytest.approx(right.mean())
        assert printed[variant.name] == pytest.approx(right.mean(), abs=5e-5)
    assert len(set(accuracy.values())) > 1


def test_evaluate_variants_refuses_bad_input_in_one_line_and_writes_nothing(runs, env, tmp_path):
    assert_one_line_error(
        cnnapp("evaluate", str(tmp_path), "--data", "sign-digits", "--variants", env=env), str(tmp_path), "missing"
    )
    shutil.copytree(runs / "happy", tmp_path / "happy", ignore=shutil.ignore_patterns("report", "variants.json"))
    result = cnnapp("evaluate", str(tmp_path / "happy"), "--data", "sign-digits", "--variants", env=env)
    assert_one_line_error(result, "sign-language-digits", "fewer than two")
    assert not (tmp_path / "happy" / "variants.json").exists()


def test_report_opens_with_the_headline_the_confusion_matrix_and_the_mistakes(runs, env, tmp_path):
    out = tmp_path / "report"
    result = cnnapp("report", str(runs / "signs"), "--out", str(out), env=env)
    assert result.returncode == 0, result.stderr
    html = (out / "report.html").read_text()
    metrics = json.loads((runs / "signs" / "metrics.json").read_text())
    headings = re.findall(r"<h2[^>]*>([^<]*)</h2>", html)
    assert headings[:2] == ["Confusion matrix", "Most confident mistakes, and what the model saw"]
    assert headings[-2:] == ["Configuration", "Architecture"]
    assert headings.index("Training curves") > headings.index("Most confident mistakes, and what the model saw")
    headline = re.search(r'<p class="headline" id="headline"><strong>([0-9.]+)</strong>', html)
    assert float(headline.group(1)) == pytest.approx(metrics["test_accuracy"], abs=5e-5)
    assert html.index('id="headline"') < html.index('id="confusion"') < html.index('id="mistakes"')
    wrong = metrics["n_test"] - sum(row[i] for i, row in enumerate(metrics["confusion_matrix"]))
    assert len(photo_tiles(out / "mistakes.png")) == 2 * min(wrong, 21)  # each photo and what the model saw
    if (runs / "signs" / "variants.json").is_file():
        assert "On the same photos held other ways" in headings
