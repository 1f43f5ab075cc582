"""cnnapp's packages import one way, from the command line and the page down to the data (tests/layers.py)."""

from layers import LAYERS, imports, package, package_graph


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
