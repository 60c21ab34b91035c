"""Reading environment variables for settings.py: each helper turns a value that is not what its variable takes into
an ImproperlyConfigured naming the variable, instead of quietly becoming a default or a zero."""

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TypeVar

from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off"}
Number = TypeVar("Number", int, float)


def _raw(name: str) -> str | None:
    """The variable's value, or None when it is unset or blank (a blank line in an env file means "the default")."""
    return os.environ.get(name, "").strip() or None


def refused(name: str, value: str, why: str) -> ImproperlyConfigured:
    return ImproperlyConfigured(f"{name}={value!r}: {why}")


def env_str(name: str, default: str = "") -> str:
    return _raw(name) or default


def env_choice(name: str, default: str, choices: Sequence[str]) -> str:
    """One of a few words, in any case; the word as `choices` spells it."""
    value = _raw(name)
    spelt = {choice.lower(): choice for choice in choices}
    if value is not None and value.lower() not in spelt:
        raise refused(name, value, f"use one of {', '.join(choices)}")
    return default if value is None else spelt[value.lower()]


def env_bool(name: str, default: bool = False) -> bool:
    """A typo must not quietly turn a safety switch off: anything but a known word is an error."""
    word = env_choice(name, "", sorted(TRUE_WORDS | FALSE_WORDS))
    return word in TRUE_WORDS if word else default


def _within(name: str, value: str, number: Number, minimum: float | None, maximum: float | None) -> Number:
    if minimum is not None and number < minimum:
        raise refused(name, value, f"must be at least {minimum:g}")
    if maximum is not None and number > maximum:
        raise refused(name, value, f"must be at most {maximum:g}")
    return number


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    value = _raw(name)
    if value is None:
        return default
    try:
        return _within(name, value, int(value), minimum, None)
    except ValueError:
        raise refused(name, value, "not a whole number") from None


def env_float(
    name: str, default: float, *, minimum: float | None = None, maximum: float | None = None, positive: bool = False
) -> float:
    """`positive`: zero is refused too (a timeout of 0 seconds, a heartbeat every 0 seconds)."""
    value = _raw(name)
    if value is None:
        return default
    try:
        number = float(value)
    except ValueError:
        raise refused(name, value, "not a number") from None
    if not math.isfinite(number) or (positive and number <= 0):
        raise refused(name, value, "must be finite and more than 0" if positive else "must be finite")
    return _within(name, value, number, minimum, maximum)


def env_list(name: str, default: Sequence[str] = ()) -> list[str]:
    """Comma-separated; blank items are dropped."""
    value = _raw(name)
    return list(default) if value is None else [item.strip() for item in value.split(",") if item.strip()]


def env_path(name: str, default: Path) -> Path:
    value = _raw(name)
    return default if value is None else Path(value)
