"""The README's Configuration table and the variables settings.py reads are the same list, both ways, so neither can
drift from the other again."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NAME = re.compile(r"`([A-Z][A-Z0-9_]*)`")


def documented_variables() -> set[str]:
    """Every backticked UPPER_CASE name in the first column of the first table under "## Configuration"."""
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    start = lines.index("## Configuration")
    names: set[str] = set()
    in_table = False
    for line in lines[start + 1 :]:
        if not line.startswith("|"):
            if in_table:
                break
            continue
        in_table = True
        names.update(NAME.findall(line.split("|")[1]))
    return names


def read_variables() -> set[str]:
    """The first argument of every env_*(...) call, os.environ.get(...), os.environ[...] and os.getenv(...)."""
    tree = ast.parse((ROOT / "migration_site" / "settings.py").read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args and _reads_environment(node.func):
            names.update(_text(node.args[0]))
        elif isinstance(node, ast.Subscript) and ast.unparse(node.value) == "os.environ":
            names.update(_text(node.slice))
    return names


def _reads_environment(function: ast.expr) -> bool:
    if isinstance(function, ast.Name):
        return function.id.startswith("env_")
    return ast.unparse(function) in ("os.environ.get", "os.getenv")


def _text(node: ast.expr) -> set[str]:
    """A name written out; the helpers' own `os.environ.get(name)` passes a variable and is not a read of its own."""
    return {node.value} if isinstance(node, ast.Constant) and isinstance(node.value, str) else set()


def test_every_variable_settings_reads_is_in_the_readme_table_and_every_row_is_read():
    documented, read = documented_variables(), read_variables()

    assert not read - documented, (
        f"read in settings.py but not in README's Configuration table: {sorted(read - documented)}"
    )
    assert not documented - read, (
        f"in README's Configuration table but never read by settings.py: {sorted(documented - read)}"
    )


def test_the_table_and_the_reads_are_found_at_all():
    """A parser that found nothing would let the comparison above pass on two empty sets."""
    assert {"DEBUG", "SECRET_KEY", "BULK_MAX_ZIPPED_BYTES", "LEGACY_API_KEY"} <= documented_variables()
    assert {"DEBUG", "SECRET_KEY", "BULK_MAX_ZIPPED_BYTES", "LEGACY_API_KEY"} <= read_variables()
