"""Forms of the review pages: one form per editable mapping, the save form, a reason, and the admin decision."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, cast

from django import forms

from conversion.models import DatasetDecision, DimensionMapping
from conversion.packaging import number_formats, vocabulary
from conversion.review import mapping_rules, services
from migration_site.lib.licences import LICENCES

VOCABULARY_LIST = "column-types"
# One list of the dataset's attribute paths for the whole page, as for the column types: a <select> per row listing
# every path made the page grow as the square of its mappings (200 mappings: 80,000 options, 3 MB, ~40 s to render).
PATHS_LIST = "dataset-paths"


def _path_input() -> forms.TextInput:
    return forms.TextInput(attrs={"list": PATHS_LIST})


class MappingForm(forms.Form):
    """The editable part of one mapping's target; links are limited to the dataset's own attributes."""

    column_type = forms.CharField(
        # No help_text: Django would point aria-describedby at it on every card; the datalist speaks for itself.
        widget=forms.TextInput(attrs={"list": VOCABULARY_LIST, "autocomplete": "off"}),
    )
    field = forms.CharField(max_length=120)
    title = forms.CharField(max_length=300, required=False)
    labelfor = forms.CharField(required=False, label="label for", max_length=300, widget=_path_input())
    parent = forms.CharField(required=False, max_length=300, widget=_path_input())
    primary_key = forms.BooleanField(required=False, label="key")
    currency = forms.CharField(max_length=3, required=False, widget=forms.TextInput(attrs={"size": 4}))
    direction = forms.ChoiceField(required=False, choices=[("", "-"), *[(d, d) for d in mapping_rules.DIRECTIONS]])
    phase = forms.ChoiceField(required=False, choices=[("", "-"), *[(p, p) for p in mapping_rules.PHASES]])
    fill_empty = forms.BooleanField(required=False, label="fill empty cells with")
    default_value = forms.CharField(required=False, max_length=300, label="default value")
    # Not required: only a measure read as a number shows it; without it, the legacy reading stands.
    number_format = forms.ChoiceField(
        choices=list(number_formats.CHOICES.items()), label="numbers like", required=False
    )
    keep_empty = forms.BooleanField(
        required=False,
        label="keep empty cells empty",
        help_text="The legacy platform wrote its default value into this measure's empty cells; tick to leave them "
        "empty instead. Reconciliation then adds the default back to compare, and says so.",
    )

    def __init__(self, *args: Any, mapping: DimensionMapping, paths: Sequence[str], **kwargs: Any) -> None:
        kwargs.setdefault("initial", initial_of(mapping))
        kwargs["prefix"] = f"m{mapping.pk}"
        # Ids without Django's "id_" and labels without a colon: the page holds hundreds of cards (see PATHS_LIST).
        kwargs.setdefault("auto_id", "%s")
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.mapping = mapping
        self.others = frozenset(paths) - {mapping.legacy_path}

    def clean_labelfor(self) -> str:
        return self._other_path("labelfor")

    def clean_parent(self) -> str:
        return self._other_path("parent")

    def _other_path(self, name: str) -> str:
        """Empty, or the legacy path of another mapping of this dataset (a link to anything else means nothing)."""
        value = str(self.cleaned_data.get(name) or "").strip()
        if value in ("", "-"):
            return ""
        if value not in self.others:
            raise forms.ValidationError(f"'{value}' is not another attribute of this dataset")
        return value

    def clean_column_type(self) -> str:
        value = str(self.cleaned_data["column_type"]).strip()
        if not vocabulary.is_known(value):
            raise forms.ValidationError(f"'{value}' is not a column type of the vocabulary")
        return value

    def clean_field(self) -> str:
        value = str(self.cleaned_data["field"]).strip()
        if not mapping_rules.FIELD_NAME.match(value):
            raise forms.ValidationError(mapping_rules.FIELD_NAME_RULE)
        return value

    def clean_currency(self) -> str:
        return str(self.cleaned_data.get("currency") or "").strip().upper()

    def target_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        options = dict(self.mapping.current_target.get("options") or {})
        if data["column_type"] == "value":
            options.update({key: data[key] for key in ("currency", "direction", "phase") if data.get(key)})
        return {
            "column_type": data["column_type"],
            "field": data["field"].strip(),
            "title": data["title"].strip(),
            "labelfor": data["labelfor"] or None,
            "parent": data["parent"] or None,
            "primary_key": data["primary_key"],
            "options": options,
            "keep_empty": bool(data.get("keep_empty")) and self.has_legacy_default,
            # Always sent; the service keeps only what differs from the legacy model (conversion.review.services).
            "default_value": (data.get("default_value") or "") if data.get("fill_empty") else None,
            "number_format": self._number_format(),
        }

    def _number_format(self) -> list[str] | None:
        """The separators chosen; None when they are the legacy reading's (or the column is no number)."""
        chosen = number_formats.of_choice(self.cleaned_data.get("number_format") or "".join(number_formats.LEGACY))
        return list(chosen) if self.reads_numbers and chosen != number_formats.LEGACY else None

    @property
    def reads_numbers(self) -> bool:
        """A column the legacy loader read as a number: its number format is the curator's to choose."""
        return str(self.mapping.source.get("datatype") or "").strip().lower() == "float"

    @property
    def takes_a_default(self) -> bool:
        """A column read from a source column (not a constant): an empty cell takes its default, or is refused."""
        return self.mapping.source.get("constant") is None and bool(self.mapping.source.get("column"))

    @property
    def has_legacy_default(self) -> bool:
        """A measure with a legacy default_value: the only kind whose empty cells a curator may keep empty."""
        mapping = self.mapping
        return mapping.kind == DimensionMapping.Kind.MEASURE and mapping.source.get("default_value") is not None


def initial_of(mapping: DimensionMapping) -> dict[str, Any]:
    target = mapping.current_target
    options = target.get("options") or {}
    default = target["default_value"] if "default_value" in target else mapping.source.get("default_value")
    number_format = number_formats.of_target(target.get("number_format")) or number_formats.LEGACY
    return {
        "column_type": target.get("column_type", ""),
        "field": target.get("field", ""),
        "title": target.get("title", ""),
        "labelfor": target.get("labelfor") or "",
        "parent": target.get("parent") or "",
        "primary_key": bool(target.get("primary_key")),
        "currency": options.get("currency", ""),
        "direction": options.get("direction", ""),
        "phase": options.get("phase", ""),
        "keep_empty": bool(target.get("keep_empty")),
        "fill_empty": default is not None,
        "default_value": default or "",
        "number_format": "".join(number_format),
    }


class SaveForm(forms.Form):
    reason = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text="Why these changes: required when you edit a mapping, kept in the review trail with each edit.",
    )
    override_required = forms.BooleanField(
        required=False,
        label="Allow without a measure or a date (migration admins only)",
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=2000)


class ReopenForm(forms.Form):
    reason = forms.CharField(max_length=2000, required=False)


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("", "-"), *DatasetDecision.Choice.choices], required=False)
    owner = forms.ChoiceField(
        required=False,
        help_text="Who owns the package (<owner>/<name>/): its legacy team, an organisation's owner or a user of the "
        "site. Default: the first manager of the legacy dataset.",
    )
    licence = forms.ChoiceField(
        required=False,
        choices=[("", "default (PACKAGE_LICENSE)"), *[(key, f"{key}: {item.title}") for key, item in LICENCES.items()]],
        help_text="The licence the package is published under, from its next conversion.",
    )
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2, "cols": 50}))

    def __init__(self, *args: Any, team: Sequence[str], **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "decision")
        super().__init__(*args, **kwargs)
        # Grouped (<optgroup>), dataset_set_owner accepts exactly these names; read when shown or validated only, so a
        # page that does not show the form (a curator's) costs no query for it.
        cast(forms.ChoiceField, self.fields["owner"]).choices = functools.partial(_owner_choices, tuple(team))

    def licence_choice(self) -> str | None:
        """The licence chosen; None when the form sent none (a page without the field leaves the licence as it is,
        where an empty value would reset it to the default)."""
        if self.add_prefix("licence") not in self.data:
            return None
        return str(self.cleaned_data["licence"])


def _owner_choices(team: Sequence[str]) -> list[Any]:
    return [("", "default"), *[(title, pairs) for title, pairs in services.owner_groups(team) if pairs]]
