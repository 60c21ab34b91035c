"""Cell values the way the legacy OpenSpending loader converted them, as CSV text for a Fiscal Data Package.

The legacy rules (osvalidate `openspending/validation/data.py`, `convert_types`, and its `slugify` from
`openspending/validation/util.py`, the same as OS-legacy `openspending/lib/util.py`):

* A cell that is missing (short row) or blank (only whitespace) takes the mapping's `default_value` whenever one is
  set, even an empty one; without a default the row fails with "Column is empty". The default goes through the same
  conversion as a value, so an invalid default (mexico's date default `1/1/2010`) fails every row that needs it. A
  present but invalid value never falls back to the default.
* Datatypes are matched after `lower().strip()`; anything but `id`, `float` and `date` is kept as text, unchanged
  (no stripping: labels such as `Eignarskattar ` keep their trailing space in the legacy database).
* `id`: lower-cased, split at runs of the ASCII punctuation `\\t !"#$%&'()*-/<=>?@[\\]^_`{|},.`, each piece
  transliterated with unidecode and split at whitespace, the words joined with `-`. Characters outside that
  list survive: `a+b` stays `a+b`, `€` becomes `EUR` (upper case, because unidecode runs after `lower()`).
* `float`: the raw value must match `^[0-9-,]*(\\.[0-9]*[Ee]?\\+?[0-9]*)?$`; commas are then dropped as thousands
  separators and the rest must be a number. The value is not stripped: ` 12` is rejected, while `12\\n` passes
  because `$` also matches before a final newline. A decimal comma is silently read as a thousands separator
  (Bosnia's `5784688,08` was stored as 578468808).
* `date`: the mapping's `format` (a strptime format) when set, else the first of `%Y-%m-%dZ`, `%Y-%m-%d`, `%Y-%m`,
  `%Y` that parses; strptime's own rules apply (exactly four year digits, one- or two-digit month and day, a day
  may be written ` 5`, the `Z` is case-insensitive).

Deliberate deviations:

* Dates keep their granularity: `2010` becomes `2010`, not `2010-01-01`, and `2010-03` stays a month.
* Numbers are Decimals, not binary floats, so no digit is lost; a number beyond the float range (which the legacy
  loader would have stored as infinity) is rejected instead.
* A `constant` is returned as it is, and an empty one refused, as the pre-2012 loader did (the osvalidate one
  could not load constants at all).
* Custom date formats go through Python 3's strptime, which also accepts non-ASCII digits; the default formats are
  parsed with ASCII-only patterns, as Python 2 did.
* The transliteration table is text-unidecode's, not the Unidecode package the legacy app used; they agree on
  Latin letters (checked against the Icelandic and Bosnian datasets) but may differ on rarer scripts.
"""

from __future__ import annotations

import datetime
import math
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Literal

from text_unidecode import unidecode  # type: ignore[import-untyped]

Granularity = Literal["year", "month", "day"]

# The legacy regex, applied with `match` so that `$` keeps accepting a final newline as it did.
_FLOAT = re.compile(r"^[0-9,-]*(\.[0-9]*[Ee]?\+?[0-9]*)?$")
_SLUG_SEPARATORS = re.compile(r"[\t !\"#$%&'()*\-/<=>?@\[\\\]^_`{|},.]+")
# Python 2 split unidecode's byte output at ASCII whitespace only (Python 3's str.split also splits at \x1c-\x1f).
_WORD = re.compile(r"[^ \t\n\r\x0b\x0c]+")
# Unidecode leaves ASCII unchanged, so an ASCII slug is the runs of characters that are neither separators nor space.
_ASCII_WORD = re.compile(r"[^\t !\"#$%&'()*\-/<=>?@\[\\\]^_`{|},. \n\r\x0b\x0c]+")
# The four default formats in one pattern, built from strptime's own %Y, %m and %d patterns (ASCII digits only,
# as Python 2 matched them; IGNORECASE because strptime matches a format's literals case-insensitively).
_DEFAULT_DATE = re.compile(
    r"(\d\d\d\d)(?:-(1[0-2]|0[1-9]|[1-9])(?:-(3[01]|[12]\d|0[1-9]|[1-9]| [1-9])z?)?)?",
    re.ASCII | re.IGNORECASE,
)
_DIRECTIVE = re.compile(r"%(.)")
_DAY_DIRECTIVES = frozenset("djaAwucx")  # day of month or year, weekday, or a whole locale date
_MONTH_DIRECTIVES = frozenset("mbBh")
_DATATYPES = {"id": "id", "float": "float", "date": "date"}
_FLOAT_LIMIT_EXPONENT = 300  # below this adjusted exponent a Decimal is certainly inside the float range


class ValueProblem(Exception):
    """A cell the legacy loader would have refused; `message` is written for a person."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class LegacyDate:
    """A legacy date with the precision it was written in (the legacy app widened everything to a day)."""

    value: datetime.date
    granularity: Granularity


def slugify_id(text: str) -> str:
    """The legacy `id` datatype: `Embætti forseta Íslands` -> `embaetti-forseta-islands`, `01.1.1` -> `01-1-1`."""
    return _slugify_cached(text)


@lru_cache(maxsize=1 << 16)
def _slugify_cached(text: str) -> str:
    # Identifier columns repeat a few thousand values over millions of rows, so the cache carries the hot path.
    lowered = text.lower()
    if lowered.isascii():
        return "-".join(_ASCII_WORD.findall(lowered))
    words: list[str] = []
    for piece in _SLUG_SEPARATORS.split(lowered):
        # Separators produced by transliteration (an en dash becomes `-`) stay: the legacy code split before it.
        words.extend(_WORD.findall(unidecode(piece)))
    return "-".join(words)


def parse_float(text: str) -> Decimal:
    """The legacy float rule: digits, commas as thousands separators, one period, an optional `E+` exponent."""
    if not _FLOAT.match(text):
        raise ValueProblem(f"'{text}' is not a number: numbers must only contain digits, periods, dashes and commas")
    try:
        number = Decimal(text.replace(",", ""))
    except InvalidOperation:
        raise ValueProblem(f"'{text}' is not a number") from None
    if number.adjusted() > _FLOAT_LIMIT_EXPONENT and math.isinf(float(number)):
        raise ValueProblem(f"'{text}' is too large to be a number")
    return number


def format_number(value: Decimal) -> str:
    """Plain decimal text without exponent or trailing zeros: `3.20E+7` -> `32000000`, `-0.0` -> `0`."""
    if not value.is_finite():
        raise ValueProblem(f"'{value}' is not a finite number")
    if value.is_zero():
        return "0"
    text = format(value, "f")  # exact: formatting without a precision does not round
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def parse_date(text: str, fmt: str | None) -> LegacyDate:
    """The legacy date rule, remembering whether the text named a year, a month or a day."""
    if fmt:
        return _parse_formatted_date(text, fmt)
    match = _DEFAULT_DATE.fullmatch(text)
    if match is None:
        raise ValueProblem(f"'{text}' is not a date: expected YYYY-MM-DD, YYYY-MM or YYYY")
    year, month, day = match.groups()
    try:
        value = datetime.date(int(year), int(month or 1), int(day or 1))
    except ValueError:
        raise ValueProblem(f"'{text}' is not a date: there is no such day") from None
    granularity: Granularity = "day" if day else "month" if month else "year"
    return LegacyDate(value, granularity)


def _parse_formatted_date(text: str, fmt: str) -> LegacyDate:
    try:
        value = datetime.datetime.strptime(text, fmt).date()
    except ValueError:
        raise ValueProblem(f"'{text}' does not match the date format '{fmt}'") from None
    return LegacyDate(value, _format_granularity(fmt))


@lru_cache(maxsize=256)
def _format_granularity(fmt: str) -> Granularity:
    # A custom format is as precise as its finest date directive; time directives are dropped with the time.
    directives = set(_DIRECTIVE.findall(fmt.replace("%%", "")))
    if directives & _DAY_DIRECTIVES:
        return "day"
    if directives & _MONTH_DIRECTIVES:
        return "month"
    return "year"


def format_date(date: LegacyDate) -> str:
    """ISO text at the date's own precision: `2010-03-31`, `2010-03` or `2010`."""
    value = date.value
    if date.granularity == "day":
        return value.isoformat()
    if date.granularity == "month":
        return f"{value.year:04d}-{value.month:02d}"
    return f"{value.year:04d}"


def convert_value(
    raw: str | None,
    *,
    datatype: str,
    default_value: str | None = None,
    constant: str | None = None,
    date_format: str | None = None,
) -> str:
    """One cell as the legacy loader read it, returned as the text to write to the package's CSV."""
    if constant is not None:
        return _constant(constant)
    if not raw or raw.isspace():
        if default_value is None:
            raise ValueProblem("Column is empty")
        return _convert_default(default_value, datatype, date_format)
    return _convert_present(raw, datatype, date_format)


def _constant(constant: str) -> str:
    if not constant:
        raise ValueProblem("The constant value is empty")
    return constant


def _convert_default(default_value: str, datatype: str, date_format: str | None) -> str:
    try:
        return _convert_present(default_value, datatype, date_format)
    except ValueProblem as problem:
        raise ValueProblem(f"Column is empty and its default value is invalid: {problem.message}") from None


def _convert_present(text: str, datatype: str, date_format: str | None) -> str:
    kind = _DATATYPES.get(datatype) or _DATATYPES.get(datatype.lower().strip())
    if kind is None:
        return text
    if kind == "float":
        if text.isascii() and text.isdigit():
            return text.lstrip("0") or "0"  # plain integers, most amounts, skip the Decimal round trip
        return format_number(parse_float(text))
    if kind == "id":
        return _slugify_cached(text)
    return _convert_date(text, date_format)


@lru_cache(maxsize=1 << 12)
def _convert_date(text: str, date_format: str | None) -> str:
    # A dataset has few distinct dates (a year, twelve month ends) repeated on every row.
    return format_date(parse_date(text, date_format))
