"""What imports what in cnnapp, read from the source: the graph of its packages, checked by test_layers.py and drawn
in docs/architecture.md by `python tests/layers.py` (a mermaid block)."""

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"

LAYERS = [
    ["cnnapp.base"],
    ["cnnapp.data"],
    ["cnnapp.models"],
    ["cnnapp.runs"],
    ["cnnapp.evaluation"],
    ["cnnapp.training"],
    ["cnnapp.inference", "cnnapp.reports"],
    ["cnnapp.web"],
    ["cnnapp.cli"],
    ["cnnapp"],
]
"""cnnapp's packages from the bottom up; a package imports only from its own layer and those below. cnnapp.base
stands for the top-level modules (errors, files, settings, progress, extras), cnnapp for the entry points on top
(`import cnnapp` with cnnapp.load, `python -m cnnapp`). The command line sits on the web package: `cnnapp serve`
starts the page."""


def package(module: str) -> str:
    """The package of a cnnapp module: cnnapp.data.images -> cnnapp.data; cnnapp.errors -> cnnapp.base."""
    parts = module.split(".")
    if module in ("cnnapp", "cnnapp.__main__"):
        return "cnnapp"
    return ".".join(parts[:2]) if len(parts) > 2 or (SRC / "cnnapp" / parts[-1]).is_dir() else "cnnapp.base"


def imports() -> dict[str, set[str]]:
    """Each cnnapp module and the cnnapp modules it imports, anywhere in its code (functions too)."""
    found = {}
    for path in sorted((SRC / "cnnapp").rglob("*.py")):
        name = ".".join(path.relative_to(SRC).with_suffix("").parts).removesuffix(".__init__")
        names = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
        found[name] = {imported for imported in names if imported.split(".")[0] == "cnnapp"}
    return found


def package_graph() -> dict[str, set[str]]:
    """Each package and the other packages its modules import."""
    graph: dict[str, set[str]] = {}
    for module, imported in imports().items():
        graph.setdefault(package(module), set()).update(package(name) for name in imported)
    return {name: targets - {name} for name, targets in graph.items()}


def mermaid() -> str:
    """The package graph as a mermaid flowchart, importer above imported."""
    lines = ["flowchart TD"]
    for name, targets in sorted(package_graph().items()):
        lines += [f"    {name.replace('.', '_')}[{name}] --> {target.replace('.', '_')}" for target in sorted(targets)]
    return "\n".join(lines)


if __name__ == "__main__":
    print(mermaid())
