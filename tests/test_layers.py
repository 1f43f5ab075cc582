"""cnnapp's packages import one way, from the command line and the page down to the data, and only the lazy modules
import inside functions (tests/layers.py)."""

from layers import LAYERS, function_imports, imports, package, package_graph


def test_every_module_belongs_to_a_layer():
    layered = {name for layer in LAYERS for name in layer}
    assert {package(module) for module in imports()} == layered


def test_no_package_imports_one_above_it():
    level = {name: i for i, layer in enumerate(LAYERS) for name in layer}
    upward = [(name, target) for name, targets in package_graph().items() for target in targets]
    assert [(name, target) for name, target in upward if level[target] > level[name]] == []


def test_the_check_sees_an_upward_import(tmp_path, monkeypatch):
    """A data module that imported the command line would be caught: the graph is read from the files."""
    import layers

    source = tmp_path / "cnnapp"
    for folder in ("data", "cli"):
        (source / folder).mkdir(parents=True)
        (source / folder / "__init__.py").write_text("")
    (source / "data" / "bad.py").write_text("def f():\n    from cnnapp.cli.main import main\n")
    monkeypatch.setattr(layers, "SRC", tmp_path)
    assert layers.package_graph()["cnnapp.data"] == {"cnnapp.cli"}


def test_imports_inside_functions_are_only_in_the_lazy_modules():
    assert function_imports() == []


def test_the_checks_see_an_import_inside_a_function_and_what_a_module_takes_from_lazy(tmp_path, monkeypatch):
    """A data module importing inside a function is named; one taking cnnapp.load from lazy imports inference."""
    import layers

    source = tmp_path / "cnnapp"
    (source / "data").mkdir(parents=True)
    (source / "data" / "__init__.py").write_text("")
    (source / "lazy.py").write_text("")
    (source / "data" / "inside.py").write_text("def f():\n    import numpy\n")
    (source / "data" / "taker.py").write_text("from cnnapp import lazy\n\n\ndef f():\n    return lazy.load\n")
    monkeypatch.setattr(layers, "SRC", tmp_path)
    assert function_imports() == ["cnnapp/data/inside.py:2"]
    assert layers.imports()["cnnapp.data.taker"] == {"cnnapp.lazy", "cnnapp.inference"}
