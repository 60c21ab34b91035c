"""os-types, the type checker and model builder of OpenSpending's packager and loader, accepts every converted package:
`new OSTypes().fieldsToModel(fields)` over each resource's fields reports no error, and models the same measures."""

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.interop.conftest import HERE, Package

pytestmark = pytest.mark.django_db
CHECK = HERE / "os_types_check.js"


def os_types_input(package: Package) -> list[dict[str, Any]]:
    """What the packager hands os-types, one item per resource: each field's name, title and column type as `type`."""
    return [
        {
            "package": f"{package.name}, resource {resource['name']}",
            "fields": [
                {"name": field["name"], "title": field.get("title", field["name"]), "type": field["columnType"]}
                for field in resource["schema"]["fields"]
            ],
        }
        for resource in package.descriptor["resources"]
    ]


def fields_to_model(modules: Path, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One node process for every package: [{package, errors, model}] in the order given."""
    done = subprocess.run(
        ["node", str(CHECK)],
        input=json.dumps(items),
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "NODE_PATH": str(modules)},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def problems(package: Package, results: list[dict[str, Any]]) -> list[str]:
    """os-types' errors for the package's resources, or else a measure it models differently from the package."""
    refused = [f"{result['package']}: {json.dumps(result['errors'])}" for result in results if result["errors"]]
    if refused:
        return refused
    modelled = sorted(measure["source"] for result in results for measure in result["model"]["measures"].values())
    declared = sorted(measure["source"] for measure in package.descriptor["model"]["measures"].values())
    return [] if modelled == declared else [f"{package.name}: os-types measures {modelled}, package {declared}"]


def test_os_types_models_every_converted_package_without_error(os_types_modules, converted_packages):
    # The tools first: a machine without them skips before the sample migration is built.
    inputs = [os_types_input(package) for package in converted_packages]
    results = iter(fields_to_model(os_types_modules, [item for items in inputs for item in items]))

    failures = [
        problem
        for package, items in zip(converted_packages, inputs, strict=True)
        for problem in problems(package, [next(results) for _ in items])
    ]
    assert not failures, "os-types refused:\n" + "\n".join(failures)
