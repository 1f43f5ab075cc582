"""What imports what in cnnapp, read from the source: the graph of its packages, checked by test_layers.py and drawn
in docs/architecture.md by `python tests/layers.py` (a mermaid block)."""

import ast
import importlib
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
stands for the top-level modules (errors, files, settings, progress, extras, lazy), cnnapp for the entry points on top
(`import cnnapp` with cnnapp.load, `python -m cnnapp`). The command line sits on the web package: `cnnapp serve`
starts the page."""


def package(module: str) -> str:
    """The package of a cnnapp module: cnnapp.data.images -> cnnapp.data; cnnapp.errors -> cnnapp.base."""
    parts = module.split(".")
    if module in ("cnnapp", "cnnapp.__main__"):
        return "cnnapp"
    return ".".join(parts[:2]) if len(parts) > 2 or (SRC / "cnnapp" / parts[-1]).is_dir() else "cnnapp.base"


LAZY = ("cnnapp.lazy", "cnnapp.cli.lazy")
"""The modules that import on first use, `lazy.NAME`: the only places of cnnapp that import inside a function."""


def lazy_names(module: str) -> dict[str, str]:
    """The names a lazy module gives (lazy.NAME), each with the module it takes it from."""
    lazy = importlib.import_module(module)
    return {**lazy.MODULE_OF, **getattr(lazy, "MODULES", {})}


def imports() -> dict[str, set[str]]:
    """Each cnnapp module and the cnnapp modules it imports, anywhere in its code (functions too), counting what it
    takes from a lazy module (lazy.NAME) as imported from NAME's module."""
    found = {}
    for path in sorted((SRC / "cnnapp").rglob("*.py")):
        name = ".".join(path.relative_to(SRC).with_suffix("").parts).removesuffix(".__init__")
        tree = ast.parse(path.read_text())
        names = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                names |= {submodule(node.module, alias.name) for alias in node.names}
        for lazy in set(LAZY) & names:
            given = lazy_names(lazy)
            names |= {given[node.attr] for node in ast.walk(tree) if is_lazy_use(node) and node.attr in given}
        found[name] = {imported for imported in names if imported.split(".")[0] == "cnnapp"}
    return found


def submodule(module: str, name: str) -> str:
    """What `from module import name` imports: the module module.name if there is one (from cnnapp import lazy),
    else module."""
    path = SRC.joinpath(*module.split("."), name)
    return f"{module}.{name}" if path.with_suffix(".py").is_file() or path.is_dir() else module


def is_lazy_use(node: ast.AST) -> bool:
    """Whether the node reads lazy.NAME."""
    return isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "lazy"


def function_imports() -> list[str]:
    """Where an import sits inside a function (path:line), but in the lazy modules."""
    found = []
    for path in sorted((SRC / "cnnapp").rglob("*.py")):
        name = ".".join(path.relative_to(SRC).with_suffix("").parts)
        for function in ast.walk(ast.parse(path.read_text())):
            if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef) and name not in LAZY:
                found += [
                    f"{path.relative_to(SRC)}:{node.lineno}"
                    for node in ast.walk(function)
                    if isinstance(node, ast.Import | ast.ImportFrom)
                ]
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
