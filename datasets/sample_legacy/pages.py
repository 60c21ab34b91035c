"""HTML pages in the markup of the legacy Jinja templates (`openspending/ui/alttemplates/`, OS-legacy 0.16).

Only the parts an exporter scrapes are reproduced faithfully: team links, the embedded team JSON, the source and
run lists of the editor, the run report heading and the dataset list of the profile. The rest is trimmed.
Unlike the legacy app (Jinja autoescape off), text is HTML-escaped here; parsers must decode entities anyway.
"""

import json
from datetime import datetime
from html import escape
from typing import Any

from datasets.sample_legacy.instance import SampleAccount, SampleDataset, with_base

RUN_LABELS = {
    "running": ("label label-info", "Running"),
    "complete": ("label label-success", "Complete"),
    "failed": ("label label-important", "Errors"),
    "removed": ("label", "Removed"),
}


def _e(value: Any) -> str:
    return escape("" if value is None else str(value))


def readable_url(url: str) -> str:
    """`h.readable_url`: long URLs are shortened in the middle."""
    return url if len(url) <= 55 else url[:15] + " .. " + url[-25:]


def layout(title: str, content: str, *, logged_in: bool, scripts: str = "") -> str:
    account_links = (
        '<li><a href="/dashboard">Dashboard</a></li>\n<li><a href="/settings">Settings</a></li>\n'
        '<li><a href="/logout">Logout</a></li>'
        if logged_in
        else '<li><a href="/login">Login/Register</a></li>'
    )
    return f"""<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>{_e(title)} - OpenSpending</title>
  </head>
  <body>
    <div class="navbar navbar-fixed-top"><div class="navbar-inner"><div class="container">
      <a class="brand" href="/"><span class="green">Open</span>Spending</a>
      <ul class="nav"><li><a class="list-datasets" href="#datasets">Datasets</a></li></ul>
      <ul class="nav pull-right">
        {account_links}
      </ul>
    </div></div></div>
    <div class="container">
{content}
    </div>
    <footer><div class="inner"><div class="container">
      <p>This is an <a href="http://okfn.org">Open Knowledge Foundation</a> project.</p>
    </div></div></footer>
{scripts}
  </body>
</html>
"""


def error_page(status: int, message: str) -> str:
    return layout(f"Error {status}", f'<h2 class="page-header">{status}</h2>\n<p>{_e(message)}</p>', logged_in=False)


def _dataset_nav(dataset: SampleDataset, *, can_update: bool) -> str:
    manage = f'<li class="admin"><a href="/{_e(dataset.name)}/editor">Manage</a></li>' if can_update else ""
    return f"""<!-- templates/dataset/_nav.html -->
<h2 class="page-header">
  {_e(dataset.label)}
</h2>
<div class="tabbable">
  <ul class="nav nav-tabs">
    <li class=""><a href="/{_e(dataset.name)}/entries">Search</a></li>
    <li class="active"><a href="/{_e(dataset.name)}/meta">About</a></li>
    {manage}
  </ul>
</div>"""


def about_page(
    dataset: SampleDataset, managers: list[SampleAccount], base_url: str, *, can_update: bool, logged_in: bool
) -> str:
    """`dataset/about.html`: description, sources, team (profile links), timestamps, measures and dimensions."""
    sources = "\n".join(
        f'<li>\n  <a href="{_e(url)}">{_e(readable_url(url))}</a>\n</li>'
        for url in (with_base(source["url"], base_url) for source in dataset.sources)
    )
    team = "\n".join(
        f'<li><a href="/account/{_e(account.name)}">{_e(account.display_name)}</a></li>' for account in managers
    )
    measures = "\n".join(
        f"<li>\n  <strong>{_e(dataset.mapping[name].get('label') or name)}</strong>\n</li>"
        for name in dataset.measures()
    )
    dimensions = "\n".join(
        f"<li><strong>{_e(meta.get('label') or name)}</strong></li>"
        for name, meta in dataset.mapping.items()
        if name not in dataset.measures()
    )
    created = datetime.fromisoformat(dataset.row["created_at"]).strftime("%Y-%m-%d")
    modified = datetime.fromisoformat(dataset.row["updated_at"]).strftime("%Y-%m-%d")
    content = f"""  <div>
    <!-- templates/dataset/about.html -->
{_dataset_nav(dataset, can_update=can_update)}
    <div class="row">
      <div class="span8">
        <h3>Description</h3>
        <p>{_e(dataset.row.get("description"))}</p>
        <div class="row">
          <div class="span4">
            <h3>Sources</h3>
            <span class="help-block">This is a listing of all source data that was registered for this dataset.</span>
            <br/>
            {f"<ul>{sources}</ul>" if sources else ""}
          </div>
          <div class="span4">
            <h3>Team</h3>
            <span class="help-block">These people are the managers of the dataset.</span>
            <br/>
            {f"<ul>{team}</ul>" if team else ""}
          </div>
        </div>
        <div class="row">
          <div class="span4">
            <h3>Timestamps</h3>
            <p class="help-block">This dataset was created on <strong>{created}</strong>.</p>
            <p class="help-block">This dataset was last modified on <strong>{modified}</strong>.</p>
          </div>
        </div>
      </div>
      <div class="span4">
        <h3>Measures</h3>
        <ul>{measures}</ul>
        <h3>Dimensions</h3>
        <ul>{dimensions}</ul>
      </div>
    </div>
  </div>"""
    return layout(dataset.label, content, logged_in=logged_in)


def _editor_nav(dataset: SampleDataset, section: str) -> str:
    tabs = [("index", "editor", "Dashboard"), ("team", "editor/team", "Team")]
    items = "\n".join(
        f'    <li class="{"active" if key == section else ""}">\n'
        f'      <a href="/{_e(dataset.name)}/{path}">{label}</a></li>'
        for key, path, label in tabs
    )
    return f"""<!-- templates/editor/_nav.html -->
<ul class="breadcrumb">
  <li>
    <i class="icon-home"></i>
    <a href="/{_e(dataset.name)}">
      {_e(dataset.label)}</a>
    <span class="divider">/</span>
  </li>
  <li class="active">Manage the dataset</li>
</ul>
<h2 class="page-header">
  {_e(dataset.label)}
</h2>
<div class="tabbable">
  <ul class="nav nav-tabs">
{items}
  </ul>
</div>"""


def editor_page(dataset: SampleDataset, base_url: str) -> str:
    """`editor/index.html` with `source/_list.html`: each source with its five latest runs."""
    sources = "\n".join(_source_rows(dataset, source, base_url) for source in dataset.sources)
    listing = (
        f"<div>\n  <h3>Source files</h3>\n<!-- templates/source/_list.html -->\n"
        f'<table class="sources table table-striped table-condensed">\n'
        f'  <tr>\n    <th colspan="2">Link</th>\n    <th>Operations</th>\n  </tr>\n{sources}\n</table>\n</div>'
        if dataset.sources
        else '<div class="alert block-message alert-info"><p><strong>Congratulations, your dataset is now created.'
        "</strong></p></div>"
    )
    count = len(dataset.entries)
    content = f"""<!-- templates/editor/index.html -->
{_editor_nav(dataset, "index")}
<div class="row">
  <div class="span8">
    {listing}
  </div>
  <div class="span4">
    <h3>Summary</h3>
    <ul>
      <li>Entries loaded: {count}</li>
      <li>Searchable: {count} ({100 if count else 0}%)</li>
    </ul>
    <h3>Dataset Actions</h3>
    {_publish_action(dataset, count)}
  </div>
</div>"""
    return layout(dataset.label, content, logged_in=True)


def _publish_action(dataset: SampleDataset, count: int) -> str:
    if not dataset.private:
        action = f"/{_e(dataset.name)}/editor/retract"
        return f'<form method="POST" action="{action}"><input type="submit" value="Retract" /></form>'
    disabled = "" if count else " disabled"
    return f'<a class="btn btn-success{disabled}">Make public</a>'


def _source_rows(dataset: SampleDataset, source: dict[str, Any], base_url: str) -> str:
    url = with_base(source["url"], base_url)
    analysis = source.get("analysis") or {}
    if "error" in analysis:
        badge, detail = (
            '<span class="label label-important">Error</span>',
            f"&mdash; <strong>{_e(analysis['error'])}</strong>",
        )
    elif "columns" in analysis:
        badge = '<span class="label label-info">OK</span>'
        detail = f'<span class="help-inline">\n        {len(analysis["columns"])} columns\n      </span>'
    else:
        badge, detail = "", ""
    runs = dataset.runs_of(source["id"])
    return f"""  <tr>
    <td colspan="2">
      {badge}
      <a href="{_e(url)}">{_e(readable_url(url))}</a>
      {detail}
    </td>
    <td class="ops">
      {_source_ops(dataset, source, runs)}
    </td>
  </tr>
  <tr>
    {_runs_cell(dataset, source, runs)}
  </tr>"""


def _source_ops(dataset: SampleDataset, source: dict[str, Any], runs: list[dict[str, Any]]) -> str:
    if any(run["operation"] == "import" and run["status"] == "complete" for run in runs):
        return '<a href="#" class="btn btn-success btn-small disabled">Successfully loaded</a>'
    action = f"/{_e(dataset.name)}/sources/{source['id']}"
    delete = (
        f'<form method="POST" action="{action}/delete"><button class="btn btn-danger btn-small">Delete</button></form>'
    )
    if not dataset.mapping or "error" in (source.get("analysis") or {}):
        return delete
    if any(run["status"] == "running" for run in runs):
        return '<a href="#" class="btn btn-info btn-small disabled">Running...</a>\n' + delete
    sampled = any(run["operation"] == "sample" and run["status"] == "complete" for run in runs)
    button = "Load" if sampled else "Test"
    sample = "" if sampled else '<input type="hidden" name="sample" value="true" />'
    load = f'<button class="btn btn-small">{button}</button>'
    return f'<form method="POST" action="{action}/load">{sample}{load}</form>\n{delete}'


def _runs_cell(dataset: SampleDataset, source: dict[str, Any], runs: list[dict[str, Any]]) -> str:
    if not runs:
        if "error" in (source.get("analysis") or {}):
            return ""
        columns = "".join(f"<li>{_e(column)}</li>" for column in source.get("analysis", {}).get("columns", []))
        return f"""<td class="top" width="5%"><strong>Analysis</strong>:</td>
    <td colspan="2">
      We found these columns in the CSV file:
      <ul>{columns}</ul>
    </td>"""
    items = "\n".join(_run_item(dataset, source, run) for run in runs[:5])
    return f"""<td class="top" width="5%"><strong>Reports</strong>:</td>
    <td colspan="2">
      <ul class="runs">
{items}
      </ul>
    </td>"""


def _run_item(dataset: SampleDataset, source: dict[str, Any], run: dict[str, Any]) -> str:
    css, text = RUN_LABELS.get(run["status"], ("label", run["status"]))
    started = datetime.fromisoformat(run["time_start"]).strftime("%d.%m.%Y, %H:%M")
    href = f"/{_e(dataset.name)}/sources/{source['id']}/runs/{run['id']}"
    return f"""        <li>
          <a href="{href}">
            {started}</a>

          <span class="{css}">{_e(text)}</span>

          <span>({len(run.get("records", []))} errors)</span>
        </li>"""


def team_page(dataset: SampleDataset, managers: list[SampleAccount], editor: SampleAccount) -> str:
    """`editor/team.html`: the team is only in the page's script, as `json.dumps(..., indent=2)` output."""
    accounts = json.dumps([account.as_dict() for account in managers], indent=2)
    scripts = f"""    <script>
      jQuery(document).ready(function($) {{
        var accounts = {accounts};
        var editingAccount = "{_e(editor.name)}";
        _.map(accounts, makeItem);
      }});
    </script>"""
    content = f"""<!-- templates/editor/team.html -->
{_editor_nav(dataset, "team")}
<div class="row">
  <div class="span4">Here, you can select the users who will be authorized to manage this dataset.</div>
  <div class="span8">
    <div class='row'>
      <div class="span4">
        <h3>Current team</h3>
        <ul id='accounts'></ul>
      </div>
    </div>
  </div>
</div>"""
    return layout(dataset.label, content, logged_in=True, scripts=scripts)


def run_page(dataset: SampleDataset, source: dict[str, Any], run: dict[str, Any], base_url: str) -> str:
    """`run/view.html`: the heading names the source, the error count and the status; nothing else about the run."""
    records = run.get("records", [])
    url = readable_url(with_base(source["url"], base_url))
    rows = "\n".join(
        f"<tr><td>{_e(r.get('row'))}</td><td><code>{_e(r.get('column'))}</code></td>"
        f"<td><code>{_e(r.get('attribute'))}</code></td><td>{_e(r.get('value'))}</td><td>{_e(r.get('message'))}</td></tr>"
        for r in records
    )
    body = (
        '<div class="row"><div class="span12"><table class="table table-condensed table-striped">\n'
        "<tr><th>Row</th><th>Column</th><th>Attribute</th><th>Value</th><th>Error</th></tr>\n"
        f"{rows}\n</table></div></div>"
        if records
        else '<div class="alert block-message alert-success"><strong>Nothing to report!</strong></div>'
    )
    content = f"""<!-- templates/run/view.html -->
{_editor_nav(dataset, "index")}
<h3>
  Report:
  {_e(url)}
  ({len(records)} Errors, {_e(run["status"])})
</h3>
{body}"""
    return layout(f"Report: {url}", content, logged_in=True)


def profile_page(
    profile: SampleAccount,
    datasets: list[SampleDataset],
    views: list[tuple[dict[str, Any], SampleDataset]],
    *,
    show_email: bool,
    logged_in: bool,
) -> str:
    """`account/profile.html`, also served as `/dashboard`; dataset links are `/<name>`, view links come after."""
    dataset_items = "\n".join(
        f'      <li>\n        <a href="/{_e(dataset.name)}">{_e(dataset.label)}</a>\n      </li>'
        for dataset in datasets
    )
    view_items = "\n".join(
        f'      <li>\n        <a href="/{_e(dataset.name)}/views/{_e(view["name"])}">{_e(view["label"])}</a>\n'
        f'        on\n        <a href="/{_e(dataset.name)}">{_e(dataset.label)}</a>\n      </li>'
        for view, dataset in views
    )
    fullname = f"<dt>Name</dt>\n      <dd>{_e(profile.fullname)}</dd>" if profile.fullname else ""
    email = f"<dt>Email</dt>\n      <dd>{_e(profile.email)}</dd>" if show_email else ""
    content = f"""<h2 class="page-header">{_e(profile.fullname)}</h2>
<div class="row">
  <div class="span4">
    <h3>Information</h3>
    <dl class="dl-horizontal">
      {fullname}
      <dt>Username</dt>
      <dd>{_e(profile.name)}</dd>
      {email}
    </dl>
  </div>
  <div class="span6">
    {f"<h3>Datasets</h3>{chr(10)}    <ul>{dataset_items}</ul>" if datasets else ""}
    {f"<h3>Views</h3>{chr(10)}    <ul>{view_items}</ul>" if views else ""}
  </div>
</div>"""
    return layout(profile.fullname or profile.name, content, logged_in=logged_in)
