"""Parsers for the legacy OpenSpending HTML pages that hold facts no JSON endpoint gives: team, runs, managed datasets.

Written against the markup of OS-legacy's Jinja templates (`openspending/ui/alttemplates/`): `dataset/about.html`,
`editor/team.html`, `editor/index.html` + `source/_list.html`, `run/view.html` and `account/profile.html` (which
`/dashboard` renders too). Lenient by design: pages that are not what we expect give empty lists or None fields,
never an exception, because a captive portal or a half-delivered page must not stop an export.
"""

import json
import re
from dataclasses import dataclass
from datetime import datetime
from html import unescape
from html.parser import HTMLParser
from urllib.parse import unquote, urlsplit

ACCOUNT_PATH = re.compile(r"^/account/([^/]+)/?$")
RUN_PATH = re.compile(r"/sources/(\d+)/runs/(\d+)/?$")
SOURCE_ACTION = re.compile(r"/sources/(\d+)/(?:load|delete)/?$")
DATASET_PATH = re.compile(r"^/([\w-]+)/?$")
ACCOUNTS_SCRIPT = re.compile(r"var\s+accounts\s*=\s*")
ERRORS_TEXT = re.compile(r"\((\d+)\s+errors?\)", re.IGNORECASE)
REPORT_HEADING = re.compile(r"^Report:.*\((\d+)\s+Errors?,\s*([^)]*)\)\s*$", re.IGNORECASE | re.DOTALL)
RUN_TIME_FORMAT = "%d.%m.%Y, %H:%M"  # how `source/_list.html` prints `run.time_start`
# The status labels of `source/_list.html`; an unknown status was printed as-is.
STATUS_LABELS = {"complete": "complete", "errors": "failed", "running": "running", "removed": "removed"}
STATUS_CLASSES = {"label-success": "complete", "label-important": "failed", "label-info": "running"}

Token = tuple[str, str, dict[str, str]]  # (kind, tag or text, attributes): kind is "start", "end" or "data"


@dataclass(frozen=True)
class TeamAccount:
    username: str
    fullname: str  # the name the page shows: the full name, or the username when the account has none
    admin: bool | None  # None where the page does not tell


@dataclass(frozen=True)
class RunInfo:
    id: int
    source_id: int | None
    operation: str | None
    status: str | None
    time_start: str | None
    time_end: str | None
    error_count: int | None = None


@dataclass(frozen=True)
class EditorSource:
    id: int | None
    url: str
    loaded: bool  # "Successfully loaded": an import run of this source completed (the page names no operations)
    analysis_error: str | None


def parse_team_from_meta(html: str) -> list[TeamAccount]:
    """The managers on `/<dataset>/meta`: links to `/account/<username>` whose text is the display name."""
    accounts: dict[str, TeamAccount] = {}
    for href, text in _anchors(_tokens(html)):
        match = ACCOUNT_PATH.match(urlsplit(href).path)
        if match:
            username = unquote(match.group(1))
            accounts.setdefault(username, TeamAccount(username, text or username, None))
    return list(accounts.values())


def parse_team_from_editor(html: str) -> list[TeamAccount]:
    """The managers on `/<dataset>/editor/team`, from the page's `var accounts = [...]` (`Account.as_dict()`)."""
    accounts: dict[str, TeamAccount] = {}
    for item in _embedded_accounts(html):
        account = _team_account(item)
        if account is not None:
            accounts.setdefault(account.username, account)
    return list(accounts.values())


def _team_account(item: object) -> TeamAccount | None:
    if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"]:
        return None
    fullname, admin = item.get("fullname"), item.get("admin")
    # The page's own script shows `fullname || name`; keep that so both parsers agree on what a team looks like.
    return TeamAccount(
        username=item["name"],
        fullname=fullname if isinstance(fullname, str) and fullname else item["name"],
        admin=admin if isinstance(admin, bool) else None,
    )


def _embedded_accounts(html: str) -> list[object]:
    match = ACCOUNTS_SCRIPT.search(html) if isinstance(html, str) else None
    if not match:
        return []
    rest = html[match.end() :]
    # Jinja printed raw JSON there; an escaping template would have turned the quotes into entities.
    for candidate in (rest, unescape(rest)):
        try:
            value, _ = json.JSONDecoder().raw_decode(candidate)
        except ValueError:
            continue
        return value if isinstance(value, list) else []
    return []


def parse_runs_from_editor(html: str) -> list[RunInfo]:
    """The runs on `/<dataset>/editor`: up to five per source, each a link to its report, a status label and
    an error count. The page shows neither the operation (sample or import) nor when a run ended; which sources were
    imported is in `parse_sources_from_editor`."""
    runs: list[RunInfo] = []
    current: dict[str, object] | None = None
    # Run links count only inside `<ul class="runs">`: a run page's pager links to its run too.
    in_runs = in_link = in_label = False
    for kind, value, attrs in _tokens(html):
        if kind == "start" and value == "ul":
            in_runs = "runs" in attrs.get("class", "").split()
        elif kind == "end" and value in ("li", "ul"):
            _finish_run(current, runs)
            current, in_runs = None, in_runs and value == "li"
        elif in_runs and kind == "start" and value == "a":
            match = RUN_PATH.search(urlsplit(attrs.get("href", "")).path)
            if match:
                _finish_run(current, runs)
                current, in_link = {"source_id": int(match.group(1)), "id": int(match.group(2)), "time": ""}, True
        elif current is not None and kind == "start" and value == "span":
            classes = attrs.get("class", "").split()
            in_label = "label" in classes
            if in_label:
                current["status"] = next((STATUS_CLASSES[c] for c in classes if c in STATUS_CLASSES), None)
        elif current is not None and kind == "data":
            _run_text(current, value, in_label=in_label, in_link=in_link)
        elif kind == "end" and value == "span":
            in_label = False
        elif kind == "end" and value == "a":
            in_link = False
    _finish_run(current, runs)
    return runs


def parse_sources_from_editor(html: str) -> list[EditorSource]:
    """The sources on `/<dataset>/editor`, in the page's order. `loaded` is the only place the legacy pages tell
    that a source was imported: runs are listed without their operation, so a complete run may be a mere sample."""
    rows = _table_rows(_tokens(html), "sources")
    sources = []
    for position, row in enumerate(rows):
        if any(map(_is_ops_cell, row)):
            sources.append(_editor_source(row, rows[position + 1] if position + 1 < len(rows) else []))
    return sources


def _is_ops_cell(token: Token) -> bool:
    kind, value, attrs = token
    return kind == "start" and value == "td" and "ops" in attrs.get("class", "").split()


def _editor_source(row: list[Token], detail: list[Token]) -> EditorSource:
    """A source row (link, analysis label, operations) and the row under it (its runs, or the analysis)."""
    anchors = _anchors(row)
    ops = next((position for position, token in enumerate(row) if _is_ops_cell(token)), len(row))
    errors = _texts_of(row[:ops], "strong")
    actions = [attrs.get("action", "") for kind, value, attrs in row if kind == "start" and value == "form"]
    ids = [m.group(1) for action in actions if (m := SOURCE_ACTION.search(urlsplit(action).path))]
    ids += [m.group(1) for href in _hrefs(detail) if (m := RUN_PATH.search(urlsplit(href).path))]
    ops_text = " ".join(value for kind, value, _ in row[ops:] if kind == "data")
    return EditorSource(
        id=int(ids[0]) if ids else None,
        url=anchors[0][0] if anchors else "",
        loaded="successfully loaded" in _squash(ops_text).lower(),
        analysis_error=errors[0] if errors else None,
    )


def _table_rows(tokens: list[Token], css_class: str) -> list[list[Token]]:
    """The tokens of each `<tr>` of the first table with that class."""
    rows: list[list[Token]] = []
    inside = False
    for kind, value, attrs in tokens:
        if kind == "start" and value == "table" and css_class in attrs.get("class", "").split():
            inside = True
        elif inside and kind == "end" and value == "table":
            break
        elif inside and kind == "start" and value == "tr":
            rows.append([])
        elif inside and rows:
            rows[-1].append((kind, value, attrs))
    return rows


def _run_text(current: dict[str, object], text: str, *, in_label: bool, in_link: bool) -> None:
    """The link's text is the start time, the label the status, and `(N errors)` follows in a plain span."""
    if in_link:
        current["time"] = f"{current['time']}{text}"
    elif in_label:
        label = _squash(text).lower()
        current["status"] = STATUS_LABELS.get(label) or current.get("status") or label or None
    elif match := ERRORS_TEXT.search(text):
        current["errors"] = int(match.group(1))


def _finish_run(current: dict[str, object] | None, runs: list[RunInfo]) -> None:
    if current is None:
        return
    status, errors = current.get("status"), current.get("errors")
    runs.append(
        RunInfo(
            id=int(str(current["id"])),
            source_id=int(str(current["source_id"])),
            operation=None,
            status=status if isinstance(status, str) else None,
            time_start=_run_time(str(current["time"])),
            time_end=None,
            error_count=errors if isinstance(errors, int) else None,
        )
    )


def _run_time(text: str) -> str | None:
    """`14.01.2013, 08:42` -> `2013-01-14T08:42` (the page shows minutes only, in server time)."""
    try:
        return datetime.strptime(_squash(text), RUN_TIME_FORMAT).strftime("%Y-%m-%dT%H:%M")
    except ValueError:
        return None


def parse_run_page(html: str, *, run_id: int | None = None, source_id: int | None = None) -> RunInfo:
    """A run report (`/<dataset>/sources/<sid>/runs/<rid>`): its heading `Report: <url> (N Errors, <status>)` is all
    it says about the run, so operation and times stay None. The page does not name the run either: pass the ids
    from the URL you fetched (a pager link, when there is one, gives them too)."""
    tokens = _tokens(html)
    status, errors = _report_heading(tokens)
    ids = next((match for href in _hrefs(tokens) if (match := RUN_PATH.search(urlsplit(href).path))), None)
    found_source, found_run = (int(ids.group(1)), int(ids.group(2))) if ids else (None, None)
    return RunInfo(
        id=run_id if run_id is not None else found_run or 0,
        source_id=source_id if source_id is not None else found_source,
        operation=None,
        status=status,
        time_start=None,
        time_end=None,
        error_count=errors,
    )


def _report_heading(tokens: list[Token]) -> tuple[str | None, int | None]:
    for heading in _texts_of(tokens, "h3"):
        match = REPORT_HEADING.match(heading)
        if match:
            return (_squash(match.group(2)).lower() or None, int(match.group(1)))
    return None, None


def parse_managed_datasets(html: str) -> list[str]:
    """Dataset names in the "Datasets" list of a profile or `/dashboard` page (links to `/<name>`).

    The "Views" list that follows also links to datasets, so only the list right after the heading counts."""
    tokens = _tokens(html)
    start = _after_heading(tokens, "h3", "datasets")
    names: dict[str, None] = {}
    depth = 0
    for kind, value, attrs in tokens[start:] if start is not None else []:
        if kind == "start" and value == "h3" and depth == 0:
            break  # the next section began: the heading had no list
        if value == "ul" and kind != "data":
            depth = max(0, depth + (1 if kind == "start" else -1))
            if depth == 0:
                break
        elif depth and kind == "start" and value == "a":
            match = DATASET_PATH.match(urlsplit(attrs.get("href", "")).path)
            if match:
                names[unquote(match.group(1))] = None
    return list(names)


def _after_heading(tokens: list[Token], tag: str, title: str) -> int | None:
    """The position just after the first `<tag>` whose text is `title` (case and spacing ignored)."""
    text: str | None = None
    for position, (kind, value, _) in enumerate(tokens):
        if kind == "start" and value == tag:
            text = ""
        elif kind == "data" and text is not None:
            text += value
        elif kind == "end" and value == tag and text is not None:
            if _squash(text).lower() == title:
                return position + 1
            text = None
    return None


# -- tokenising ------------------------------------------------------------------------------------------------


class _Tokenizer(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tokens: list[Token] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tokens.append(("start", tag, {name: value or "" for name, value in attrs}))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        self.tokens.append(("end", tag, {}))

    def handle_endtag(self, tag: str) -> None:
        self.tokens.append(("end", tag, {}))

    def handle_data(self, data: str) -> None:
        self.tokens.append(("data", data, {}))


def _tokens(html: str) -> list[Token]:
    if not isinstance(html, str):
        return []
    tokenizer = _Tokenizer()
    try:
        tokenizer.feed(html)
        tokenizer.close()
    except Exception:  # html.parser has raised AssertionError on broken declarations; keep what was read
        pass
    return tokenizer.tokens


def _anchors(tokens: list[Token]) -> list[tuple[str, str]]:
    """Every link as (href, its text with whitespace squashed)."""
    anchors: list[tuple[str, str]] = []
    href: str | None = None
    text = ""
    for kind, value, attrs in tokens:
        if kind == "start" and value == "a":
            href, text = attrs.get("href", ""), ""
        elif kind == "data" and href is not None:
            text += value
        elif kind == "end" and value == "a" and href is not None:
            anchors.append((href, _squash(text)))
            href = None
    return anchors


def _hrefs(tokens: list[Token]) -> list[str]:
    return [attrs.get("href", "") for kind, value, attrs in tokens if kind == "start" and value == "a"]


def _texts_of(tokens: list[Token], tag: str) -> list[str]:
    texts: list[str] = []
    current: str | None = None
    for kind, value, _ in tokens:
        if kind == "start" and value == tag:
            current = ""
        elif kind == "data" and current is not None:
            current += value
        elif kind == "end" and value == tag and current is not None:
            texts.append(_squash(current))
            current = None
    return texts


def _squash(text: str) -> str:
    return " ".join(text.split())
