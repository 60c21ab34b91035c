"""Parsers for the legacy HTML pages: on the sample server's pages, on snippets in the real template markup, on junk."""

import json
from collections.abc import Iterator

import pytest
import requests

from datasets.legacy_html import (
    EditorSource,
    RunInfo,
    TeamAccount,
    parse_managed_datasets,
    parse_run_page,
    parse_runs_from_editor,
    parse_sources_from_editor,
    parse_team_from_editor,
    parse_team_from_meta,
)
from datasets.sample_legacy import ADMIN_API_KEY, MANAGER_API_KEY, PRIVATE_DATASET, SampleLegacyServer

ADMIN = {"Authorization": f"ApiKey {ADMIN_API_KEY}"}

# `dataset/about.html` as the legacy app rendered it (Jinja, autoescape off; url_for may give absolute URLs).
META_PAGE = """<!DOCTYPE html><html lang="en"><head><title>Hafnarvík - OpenSpending</title></head><body>
<div class="navbar"><ul class="nav pull-right"><li><a href="/dashboard">Dashboard</a></li></ul></div>
<div class="container">
  <div class="row">
    <div class="span4">
      <h3>Sources</h3>
      <ul>
        <li>
          <a href="http://data.example.is/utgjold.csv">http://data.example.is/utgjold.csv</a>
        </li>
      </ul>
    </div>
    <div class="span4">
      <h3>Team</h3>
      <span class="help-block">
        These people are the managers of the dataset. They can
        make modifications to its schema and are responsible
        to make sure the data is accurate.
      </span>
      <br/>
      <ul>
        <li><a href="/account/gudrun">Guðrún Ólafsdóttir</a></li>
        <li><a href="http://openspending.org/account/h.jonsson">h.jonsson</a></li>
        <li><a href="/account/ana%20maria">Ana &amp; Maria</a></li>
      </ul>
    </div>
  </div>
</div></body></html>
"""

# `editor/team.html`: `var accounts = {{ c.accounts }}` with Python 2's json.dumps(indent=2): ", " separators (so
# trailing spaces), arbitrary key order, non-ASCII escaped, and an extra "twitter" key on some deployments.
TEAM_JSON = json.dumps(
    [
        {"admin": True, "fullname": "Guðrún Ólafsdóttir", "email": "gudrun@example.is", "name": "gudrun"},
        {"twitter": None, "admin": False, "fullname": None, "email": "h@example.is", "name": "h.jonsson"},
    ],
    indent=2,
    separators=(", ", ": "),
)
TEAM_PAGE = f"""<html><body>
    <script src="/static/lib/vendor/jquery-ui/jquery-ui.min.js"></script>
    <script>
      jQuery(document).ready(function($) {{
        var accounts = {TEAM_JSON};
        var editingAccount = "gudrun";
        item_template = Handlebars.compile($('#account-item').html());
      }});
    </script>
<script id='account-item' type='text/handlebars'>
  <li data-name='{{{{name}}}}'><strong>{{{{fullname}}}}</strong></li>
</script>
</body></html>
"""

# `editor/index.html` + `source/_list.html`: one source loaded, one with every kind of status label.
EDITOR_PAGE = """<table class="sources table table-striped table-condensed">
  <tr>
    <th colspan="2">Link</th>
    <th>Operations</th>
  </tr>
  <tr>
    <td colspan="2">
      <span class="label label-info">OK</span>
      <a href="http://example.org/budget-2011.csv">http://example.org/budget-2011.csv</a>
      <span class="help-inline">
        7 columns
      </span>
    </td>
    <td class="ops">
      <a href="#" class="btn btn-success btn-small disabled">Successfully loaded</a>
    </td>
  </tr>
  <tr>
    <td class="top" width="5%"><strong>Reports</strong>:</td>
    <td colspan="2">
      <ul class="runs">
        <li>
          <a href="/budget-ns/sources/71/runs/905">
            02.03.2012, 17:45</a>

          <span class="label label-success">Complete</span>

          <span>(0 errors)</span>
        </li>
        <li>
          <a href="http://openspending.org/budget-ns/sources/71/runs/899">
            01.03.2012, 09:02</a>

          <span class="label label-important">Errors</span>

          <span>(1250 errors)</span>
        </li>
      </ul>
    </td>
  </tr>
  <tr>
    <td colspan="2">
      <span class="label label-important">Error</span>
      <a href="http://example.org/budget-2012.csv">http://example.org/budget-2012.csv</a>
      &mdash; <strong>HTTP Error 500</strong>
    </td>
    <td class="ops"></td>
  </tr>
  <tr>
    <td class="top" width="5%"><strong>Reports</strong>:</td>
    <td colspan="2">
      <ul class="runs">
        <li>
          <a href="/budget-ns/sources/72/runs/930">
            05.03.2012, 10:00</a>
          <span class="label label-info">Running</span>
          <span>(0 errors)</span>
        </li>
        <li>
          <a href="/budget-ns/sources/72/runs/920">
            04.03.2012, 10:00</a>
\t  <span class="label">Removed</span>
          <span>(0 errors)</span>
        </li>
        <li>
          <a href="/budget-ns/sources/72/runs/910">
            03.03.2012, 10:00</a>
\t  <span class="label">queued</span>
          <span>(0 errors)</span>
        </li>
      </ul>
    </td>
  </tr>
</table>
"""

# `run/view.html`: the heading is all the page says about the run.
RUN_PAGE = """<html><head><title>Report: http://example.o .. s/budget-2011-final.csv - OpenSpending</title></head>
<body><div class="container">
<ul class="breadcrumb"><li><a href="/budget-ns">Budget</a></li><li class="active">Manage the dataset</li></ul>
<h2 class="page-header">Budget</h2>
<h3>
  Report:
  http://example.o .. s/budget-2011-final.csv
  (2 Errors, failed)
</h3>
<div class="row"><div class="span12"><table class="table table-condensed table-striped">
  <tr><th>Row</th><th>Column</th><th>Attribute</th><th>Value</th><th>Error</th></tr>
  <tr><td>12</td><td><code>Amount</code></td><td><code>amount</code></td><td>1.2.3</td><td>Numbers must only
  contain digits, periods, dashes and commas</td></tr>
</table>
<div class="pagination"><a href="/budget-ns/sources/71/runs/899?data_page=2">2</a></div>
</div></div></div></body></html>
"""

# `account/profile.html`: datasets first; the views list links to datasets too, and must not count.
PROFILE_PAGE = """<h2 class="page-header">Guðrún Ólafsdóttir</h2>
<div class="row">
  <div class="span4">
    <h3>Information <small><a href="/settings">(change)</a></small></h3>
    <dl class="dl-horizontal"><dt>Username</dt><dd>gudrun</dd></dl>
  </div>
  <div class="span6">
    <h3>Datasets</h3>
    <ul>
      <li>
        <a href="/budget-ns">Budget of Nordurstrond</a>
      </li>
      <li>
        <a href="http://openspending.org/secret-draft">Draft (private)</a>
      </li>
    </ul>
    <h3>Views</h3>
    <ul>
      <li>
        <a href="/other-dataset/views/by-area">By area</a>
        on
\t<a href="/other-dataset">Someone else's dataset</a>
      </li>
    </ul>
  </div>
</div>
"""

JUNK = [
    "",
    "not html at all",
    "<html><frameset><noframes><h1>Sorry! (fe)</h1></noframes></frameset></html>",
    "<<<>>>&&&;;</a></ul></h3>",
    "<![CDATA[ <!DOCTYPE",
    "<h3>Datasets</h3><p>none</p><h3>Views</h3><ul><li><a href='/x'>x</a></li></ul>",
    "var accounts = [{broken",
    'var accounts = {"name": "not-a-list"};',
    "<a href='/account/'>nobody</a><a href='/sources/x/runs/y'>no ids</a>",
    "\x00\ufffd\udcff",
    '{"datasets": [{"name": "lindenau-haushalt", "label": "Haush',
]


@pytest.fixture(scope="module")
def server() -> Iterator[SampleLegacyServer]:
    with SampleLegacyServer() as running:
        yield running


def page(server: SampleLegacyServer, path: str, headers: dict[str, str] | None = None) -> str:
    response = requests.get(server.base_url + path, headers=headers or {}, timeout=5)
    response.raise_for_status()
    return response.text


# -- the sample server's pages ------------------------------------------------------------------------------------


def test_team_from_the_meta_page_of_the_server(server):
    team = parse_team_from_meta(page(server, "/lindenau-haushalt/meta"))
    assert team == [
        TeamAccount("kmueller", "Katrin Müller", None),
        TeamAccount("fbecker", "fbecker", None),
        TeamAccount("pwright", "Paul Wright", None),
    ]


def test_team_from_the_editor_team_page_of_the_server_carries_admin_flags(server):
    team = parse_team_from_editor(page(server, "/lindenau-haushalt/editor/team", ADMIN))
    assert [(account.username, account.fullname, account.admin) for account in team] == [
        ("kmueller", "Katrin Müller", False),
        ("fbecker", "fbecker", False),
        ("pwright", "Paul Wright", False),
    ]


def test_a_dataset_without_team_has_an_empty_team_on_both_pages(server):
    assert parse_team_from_meta(page(server, "/lagoon-district-expenditure/meta")) == []
    assert parse_team_from_editor(page(server, "/lagoon-district-expenditure/editor/team", ADMIN)) == []


def test_runs_from_the_editor_page_of_the_server(server):
    runs = parse_runs_from_editor(page(server, "/lagoon-district-expenditure/editor", ADMIN))
    assert runs == [
        RunInfo(8805, 3301, None, "complete", "2013-01-14T08:42", None, 0),
        RunInfo(8804, 3301, None, "complete", "2013-01-14T08:40", None, 0),
        RunInfo(9011, 3302, None, "failed", "2013-04-09T12:16", None, 1),
    ]


def test_sources_from_the_editor_page_of_the_server_tell_which_were_loaded(server):
    base = f"{server.base_url}/files/lagoon-district-expenditure"
    assert parse_sources_from_editor(page(server, "/lagoon-district-expenditure/editor", ADMIN)) == [
        EditorSource(3301, f"{base}/expenditure-2012.csv", True, None),
        EditorSource(3302, f"{base}/expenditure-2013.csv", False, None),  # its import failed
        EditorSource(3303, f"{base}/expenditure-2014.csv", False, "HTTP Error 404: Not Found"),
    ]
    sources = parse_sources_from_editor(page(server, "/northfield-spending-2014/editor", ADMIN))
    assert [(source.id, source.loaded) for source in sources] == [(5210, True), (5211, False)]  # 5211: sampled only


def test_a_dataset_without_runs_lists_none(server):
    assert parse_runs_from_editor(page(server, "/riverton-draft-budget-2015/editor", ADMIN)) == []


def test_run_page_of_the_server(server):
    html = page(server, "/lagoon-district-expenditure/sources/3302/runs/9011", ADMIN)
    assert parse_run_page(html, run_id=9011, source_id=3302) == RunInfo(9011, 3302, None, "failed", None, None, 1)
    assert parse_run_page(page(server, "/lindenau-haushalt/sources/4102/runs/9378", ADMIN)).status == "complete"


def test_managed_datasets_on_the_servers_dashboard_and_profiles(server):
    dashboard = page(server, "/dashboard", {"Authorization": f"ApiKey {MANAGER_API_KEY}"})
    assert parse_managed_datasets(dashboard) == [PRIVATE_DATASET]
    # pwright's profile also lists a view of lindenau-haushalt; datasets come sorted by label
    assert parse_managed_datasets(page(server, "/account/pwright")) == [
        "lindenau-haushalt",
        "northfield-spending-2014",
        "wdmmg-regional-2009",
        "saltmarsh-capital-programme",
    ]
    assert parse_managed_datasets(page(server, "/account/sreader")) == []


# -- snippets in the real legacy markup ---------------------------------------------------------------------------


def test_team_from_legacy_about_markup():
    assert parse_team_from_meta(META_PAGE) == [
        TeamAccount("gudrun", "Guðrún Ólafsdóttir", None),
        TeamAccount("h.jonsson", "h.jonsson", None),
        TeamAccount("ana maria", "Ana & Maria", None),
    ]


def test_team_from_legacy_team_markup():
    assert parse_team_from_editor(TEAM_PAGE) == [
        TeamAccount("gudrun", "Guðrún Ólafsdóttir", True),
        TeamAccount("h.jonsson", "h.jonsson", False),
    ]


def test_team_json_survives_html_escaping():
    escaped = TEAM_PAGE.replace('"', "&#34;")
    assert [account.username for account in parse_team_from_editor(escaped)] == ["gudrun", "h.jonsson"]


def test_runs_from_legacy_source_list_markup():
    runs = parse_runs_from_editor(EDITOR_PAGE)
    assert [(run.id, run.source_id, run.status, run.error_count) for run in runs] == [
        (905, 71, "complete", 0),
        (899, 71, "failed", 1250),
        (930, 72, "running", 0),
        (920, 72, "removed", 0),
        (910, 72, "queued", 0),
    ]
    assert runs[0].time_start == "2012-03-02T17:45"
    assert all(run.operation is None and run.time_end is None for run in runs)


def test_a_run_without_status_label_keeps_its_time_and_error_count():
    html = '<ul class="runs"><li><a href="/d/sources/1/runs/2">01.02.2013, 10:11</a> <span>(3 errors)</span></li></ul>'
    assert parse_runs_from_editor(html) == [RunInfo(2, 1, None, None, "2013-02-01T10:11", None, 3)]


def test_sources_from_legacy_source_list_markup():
    assert parse_sources_from_editor(EDITOR_PAGE) == [
        EditorSource(71, "http://example.org/budget-2011.csv", True, None),
        EditorSource(72, "http://example.org/budget-2012.csv", False, "HTTP Error 500"),
    ]


def test_run_page_from_legacy_markup_takes_ids_from_a_pager_link():
    assert parse_run_page(RUN_PAGE) == RunInfo(899, 71, None, "failed", None, None, 2)
    assert parse_run_page(RUN_PAGE, run_id=5, source_id=6).id == 5


def test_managed_datasets_from_legacy_profile_markup_skip_the_views_list():
    assert parse_managed_datasets(PROFILE_PAGE) == ["budget-ns", "secret-draft"]


# -- junk ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("junk", JUNK)
def test_parsers_return_nothing_for_junk(junk):
    assert parse_team_from_meta(junk) == []
    assert parse_team_from_editor(junk) == []
    assert parse_runs_from_editor(junk) == []
    assert parse_sources_from_editor(junk) == []
    assert parse_managed_datasets(junk) == []
    assert parse_run_page(junk) == RunInfo(0, None, None, None, None, None, None)


def test_parsers_do_not_mix_pages_up():
    """Each parser finds nothing on the other pages: a wrong page must not look like an empty but valid one."""
    assert parse_team_from_meta(EDITOR_PAGE) == parse_team_from_meta(PROFILE_PAGE) == []
    assert parse_runs_from_editor(META_PAGE) == parse_runs_from_editor(PROFILE_PAGE) == []
    assert parse_runs_from_editor(RUN_PAGE) == []  # its pager links to the run, but it is no run list
    assert parse_managed_datasets(META_PAGE) == parse_managed_datasets(EDITOR_PAGE) == []
    assert parse_sources_from_editor(META_PAGE) == parse_sources_from_editor(RUN_PAGE) == []
    assert parse_run_page(EDITOR_PAGE).status is None
