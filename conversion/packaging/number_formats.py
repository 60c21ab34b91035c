"""Number formats a curator may choose for a measure the legacy loader could not read: it knew one format only, a
point before the decimals and commas between thousands (`1,234.50`), and refused a row with `1.234,50` in it. Pure."""

from __future__ import annotations

LEGACY = (".", ",")  # (decimal separator, thousands separator) as the legacy loader read numbers
DECIMALS = {".": "point", ",": "comma"}
GROUPS = {",": "comma", ".": "point", " ": "space", "'": "apostrophe", "": "none"}
# The formats a curator picks from, by example: decimal separator then thousands separator, the legacy one first.
CHOICES = {
    ".,": "1,234.5",
    ".": "1234.5",
    ",.": "1.234,5",
    ", ": "1 234,5",
    ". ": "1 234.5",
    ".'": "1'234.5",
    ",": "1234,5",
}


def of_target(value: object) -> tuple[str, str] | None:
    """The (decimal, thousands) separators a mapping's target stores (a JSON list of two strings); None for anything
    else, which means the legacy reading."""
    if isinstance(value, list | tuple) and len(value) == 2 and all(isinstance(part, str) for part in value):
        return value[0], value[1]
    return None


def of_choice(value: str) -> tuple[str, str]:
    """A choice's (decimal, thousands) separators: ",." -> (",", ".")."""
    return value[:1], value[1:]


_SPACES = (" ", "\u00a0", "\u202f")  # a space, a no-break space, a narrow no-break space: spreadsheets write all three


def rewrite(text: str, decimal: str, group: str) -> str:
    """`text` written in the chosen format, rewritten in the legacy one (point, no thousands separator), for the
    legacy reading to take over: `45.120,50` with decimal "," and group "." -> `45120.50`. Text in no format at
    all comes out as unreadable as it went in."""
    if group == " ":
        for space in _SPACES:
            text = text.replace(space, "")
    elif group:
        text = text.replace(group, "")
    return text.replace(decimal, ".") if decimal != "." else text


def describe(decimal: str, group: str) -> str:
    return f"decimal {DECIMALS.get(decimal, decimal)}, thousands {GROUPS.get(group, group)}"
