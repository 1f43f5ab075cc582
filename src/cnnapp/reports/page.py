"""The report as one HTML file: text escaped, figures embedded as data URIs, so it opens anywhere."""

import base64
from html import escape
from pathlib import Path

from cnnapp.runs import Result, Run, SplitRecord

STYLE = """
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #222;
       max-width: 1100px; margin: 2em auto; padding: 0 1.5em; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.25em; margin-top: 2em; border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
h3 { font-size: 1.05em; margin: 1.2em 0 0.4em; }
p.headline { font-size: 1.5em; margin: 0.2em 0; }
p.headline strong { font-size: 1.6em; }
p.lead { font-size: 1.1em; margin-top: 0; }
p.note { background: #fff4e5; border-left: 4px solid #f0a020; padding: 0.5em 0.8em; }
table { border-collapse: collapse; margin: 0.5em 0 1em; display: block; max-width: 100%; overflow-x: auto; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.7em; text-align: left; vertical-align: top; }
th { background: #f4f6f8; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
#confusion-table td.hit { background: #e3f2e1; font-weight: 600; }
code { font-size: 0.92em; }
figure { margin: 0.5em 0 1em; }
img { max-width: 100%; height: auto; border: 1px solid #eee; }
.pair { display: flex; flex-wrap: wrap; gap: 1em; align-items: flex-start; }
.curves figure { flex: 1 1 45%; }
@media (max-width: 40em) { body { margin: 1em auto; padding: 0 0.6em; } th, td { padding: 0.2em 0.4em; } }
"""


def embedded(path: Path, alt: str) -> str:
    """An <img> holding the PNG at path as a base64 data URI."""
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f'<figure><img src="data:image/png;base64,{data}" alt="{escape(alt)}"></figure>'


def text(value) -> str:
    """A configuration value as escaped text: lists joined by commas, mappings as 'key: value; ...', None as a dash."""
    if value is None:
        return "&ndash;"
    if isinstance(value, dict):
        return escape("; ".join(f"{k}: {v}" for k, v in value.items()))
    if isinstance(value, list | tuple):
        return escape(", ".join(str(v) for v in value))
    return escape(str(value))


def key_values(pairs: list[tuple[str, object]], table_id: str) -> str:
    """A two-column table of names and values."""
    body = "".join(f"<tr><th>{escape(k)}</th><td>{text(v)}</td></tr>" for k, v in pairs)
    return f'<table id="{table_id}">{body}</table>'


def table(header: list[str], rows: list[list[str]], numeric: set[int], table_id: str) -> str:
    """A table of already escaped cells; columns in numeric are right-aligned."""
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>"
        + "".join(f'<td class="num">{c}</td>' if i in numeric else f"<td>{c}</td>" for i, c in enumerate(row))
        + "</tr>"
        for row in rows
    )
    return f'<table id="{table_id}"><tr>{head}</tr>{body}</table>'


def config_section(run: Run) -> str:
    """Model, data, split, hyperparameters, seed and versions of the run."""
    data, split, made = run.data, run.split, run.provenance
    classes = [f"{name} ({data.counts[name]})" if name in data.counts else name for name in run.class_names]
    model = [("model", run.model), ("parameters", f"{made.parameters or 0:,}")]
    data_rows = [
        ("name", data.name),
        ("source", data.source),
        ("fingerprint", data.fingerprint),
        ("classes (images)", classes),
    ]
    split_rows = [
        ("split", split.described),
        ("train / validation / test", f"{split.n_train} / {split.n_val} / {split.n_test}"),
    ]
    leaks = split.leaks
    if leaks:
        named = [f"{f['test']} = {f['matches']} ({f['in']})" for f in leaks["found"]]
        split_rows.append(("leak check", f"{leaks['rule']}; {leaks['action']}: {len(named)} test photos"))
        split_rows.append(("leaked test photos", named or "none"))
    other = [
        ("seed", run.seed),
        ("initial weights", made.initial_weights),
        ("created", made.created),
        ("command", made.command),
    ]
    return (
        "<h2>Configuration</h2>"
        + "<h3>Model</h3>"
        + key_values(model, "model")
        + "<h3>Data</h3>"
        + key_values(data_rows, "data")
        + "<h3>Split</h3>"
        + key_values(split_rows, "split")
        + "<h3>Hyperparameters</h3>"
        + key_values(list(run.settings.items()), "hyperparameters")
        + "<h3>Run</h3>"
        + key_values(other, "run")
        + "<h3>Versions</h3>"
        + key_values(list(made.versions.items()), "versions")
    )


def results_section(run: Run, result: Result) -> str:
    """The figures on these images beside the ones recorded at training time."""
    stored, training = run.result, run.training
    here = [
        ("evaluated on", result.images),
        ("accuracy", f"{result.accuracy:.4f}"),
        ("loss", f"{result.loss:.4f}"),
        ("images", result.n),
    ]
    trained = [
        ("test accuracy", f"{stored.accuracy:.4f}"),
        ("test loss", f"{stored.loss:.4f}"),
        ("test images", stored.n),
        ("epochs run", training.epochs_run),
        ("epoch with the lowest validation loss", training.best_epoch),
        ("model kept", training.kept),
        ("training time", None if training.seconds is None else f"{training.seconds:.1f} s"),
    ]
    return (
        "<h2>Results</h2>"
        + '<div class="pair"><div><h3>On these images</h3>'
        + key_values(here, "results-here")
        + "</div><div><h3>Recorded at training (metrics.json)</h3>"
        + key_values(trained, "results-recorded")
        + "</div></div>"
    )


def sources_section(run: Run) -> str:
    """The test figures of each source of a mixed run, as recorded at training, else nothing."""
    per_source = run.result.per_source
    if not per_source:
        return ""
    splits = {source.name: source.split for source in run.sources} if run.mixed else {}
    rows = [
        [
            escape(name),
            f"{r.accuracy:.4f}",
            f"{r.loss:.4f}",
            str(r.n),
            escape(" / ".join(sides(splits.get(name)))),
        ]
        for name, r in per_source.items()
    ]
    header = ["source", "test accuracy", "test loss", "test images", "train / validation / test"]
    return f'<h2 id="sources">Per source (mix: {escape(run.mix)}; recorded at training)</h2>' + table(
        header, rows, {1, 2, 3}, "per-source"
    )


def sides(split: SplitRecord | None) -> list[str]:
    """A source's train, validation and test counts as text, "-" where unknown."""
    counts = (None, None, None) if split is None else (split.n_train, split.n_val, split.n_test)
    return ["-" if n is None else str(n) for n in counts]


def other_images_note(run: Run, result: Result) -> str:
    """A warning when the report's images are not those the run was tested on at training, else nothing."""
    if result.confusion_matrix == run.result.confusion_matrix:
        return ""
    return (
        '<p class="note">These are not the images the run was tested on when it was trained, so the figures '
        "below differ from those in its metrics.json.</p>"
    )


def confusion_table(matrix: list[list[int]], class_names: list[str]) -> str:
    """The confusion matrix as a table: one row per true class, one column per predicted class."""
    rows = []
    for i, (name, counts) in enumerate(zip(class_names, matrix, strict=True)):
        cells = [f'<td class="num{" hit" if i == j else ""}">{n}</td>' for j, n in enumerate(counts)]
        rows.append(f'<tr><th>{escape(name)}</th>{"".join(cells)}<td class="num">{sum(counts)}</td></tr>')
    head = "".join(f"<th>{escape(name)}</th>" for name in class_names)
    return f'<table id="confusion-table"><tr><th>true \\ predicted</th>{head}<th>total</th></tr>{"".join(rows)}</table>'


def per_class_table(report: dict, class_names: list[str]) -> str:
    """Precision, recall, F1 and image count per class, then the macro and weighted averages."""
    rows = []
    for name in [*class_names, "macro avg", "weighted avg"]:
        scores = report[name]
        cells = [f"{scores[k]:.3f}" for k in ("precision", "recall", "f1-score")]
        rows.append([escape(name), *cells, str(int(scores["support"]))])
    return table(["class", "precision", "recall", "F1", "images"], rows, {1, 2, 3, 4}, "per-class")


def architecture_section(rows: list[list], totals: dict[str, int]) -> str:
    """One row per layer (type, output shape, parameters, settings), then the parameter totals."""
    cells = [
        [str(i), escape(row[0]), escape(str(row[1])), f"{row[2]:,}", escape(", ".join(str(e) for e in row[3:]))]
        for i, row in enumerate(rows)
    ]
    counts = [(f"{name} parameters", f"{n:,}") for name, n in totals.items()]
    return (
        "<h2>Architecture</h2>"
        + table(["#", "layer", "output shape", "parameters", "settings"], cells, {0, 3}, "architecture")
        + key_values(counts, "parameter-totals")
    )


def variants_section(variants: dict) -> str:
    """The run's figures on its evaluation photos mirrored, turned, rescaled and shifted (its variants.json)."""
    rows = [[escape(v["name"]), f"{v['accuracy']:.4f}", f"{v['loss']:.4f}"] for v in variants["variants"]]
    return (
        "<h2>On the same photos held other ways</h2>"
        + f"<p>{escape(variants['evaluated_on'])}: {variants['n']} real photos, each changed as named "
        + "(<code>cnnapp evaluate RUN --data DATA --variants</code>).</p>"
        + table(["variant", "accuracy", "loss"], rows, {1, 2}, "variants")
    )


def report_page(
    run: Run,
    result: Result,
    per_class: dict,
    rows: list[list],
    totals: dict[str, int],
    figures: dict[str, Path],
    variants: dict | None = None,
) -> str:
    """The whole report as an HTML document: what a reader looks at first (the headline figure, the confusion
    matrix, the mistakes beside what the model saw), then the details, the configuration and the architecture."""
    names = run.class_names
    title = f"{run.model} on {run.data.name}"
    right = sum(row[i] for i, row in enumerate(result.confusion_matrix))
    mistakes = (
        embedded(figures["mistakes"], "the most confident mistakes, each photo above what the model saw")
        if "mistakes" in figures
        else "<p>No mistakes on these images.</p>"
    )
    body = [
        f"<h1>Run report: {escape(title)}</h1>",
        f'<p class="headline" id="headline"><strong>{result.accuracy:.4f}</strong> accuracy: {right} of '
        f"{result.n} images right</p>",
        f'<p class="lead">On {escape(result.images)}. Run folder <code>{escape(str(run.path))}</code>.</p>',
        other_images_note(run, result),
        '<h2 id="confusion">Confusion matrix</h2><div class="pair">'
        + embedded(figures["confusion"], "confusion matrix")
        + "<div>"
        + confusion_table(result.confusion_matrix, names)
        + "</div></div>",
        '<h2 id="mistakes">Most confident mistakes, and what the model saw</h2>' + mistakes,
        variants_section(variants) if variants else "",
        results_section(run, result),
        sources_section(run),
        "<h2>Per-class precision, recall and F1</h2>" + per_class_table(per_class, names),
        "<h2>Test photos and predictions</h2>"
        + embedded(figures["predictions"], "test photos with true and predicted labels"),
        '<h2>Training curves</h2><div class="pair curves">'
        + embedded(figures["loss"], "loss per epoch, train and validation")
        + embedded(figures["accuracy"], "accuracy per epoch, train and validation")
        + "</div>"
        if "loss" in figures
        else "",
        config_section(run),
        architecture_section(rows, totals),
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}: cnnapp report</title><style>{STYLE}</style></head>\n<body>\n"
        + "\n".join(part for part in body if part)
        + "\n</body></html>\n"
    )
