"""azure-maas is an application run from a clone, not a package (docs/contributing.md#packaging).

Its build backend (hatchling, with the hook ``scripts/hatch_build.py``) makes one thing, the editable install
that ``uv sync`` does; every wheel or sdist is refused with one message. These tests drive the real backend
in-process, configured by the real pyproject.toml, as a build frontend does in its build environment. That
``uv build`` shows the message is a manual check (it fetches hatchling into an isolated environment):
docs/contributing.md#packaging gives the command and its output.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import tomllib
import zipfile
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hatchling.builders.sdist import SdistBuilder
from hatchling.builders.wheel import WheelBuilder

import azure_maas_policy
import infra

ROOT = Path(__file__).resolve().parents[1]
HOOK = ROOT / "scripts" / "hatch_build.py"
PYPROJECT: dict[str, Any] = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
VERSION: str = PYPROJECT["project"]["version"]
DIST_INFO = f"azure_maas-{VERSION}.dist-info"


def _hook_module() -> ModuleType:
    """``scripts/hatch_build.py`` loaded from its file, as hatchling loads it (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location("hatch_build", HOOK)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MESSAGE: str = _hook_module().MESSAGE


def test_the_docs_quote_the_message() -> None:
    """docs/contributing.md#packaging shows the message as the frontends print it, on a line of its own."""
    assert f"\n{MESSAGE}\n" in (ROOT / "docs" / "contributing.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "builder",
    [
        pytest.param(WheelBuilder, id="wheel"),  # uv build --wheel, pip wheel ., pip install ., uv sync --no-editable
        pytest.param(SdistBuilder, id="sdist"),  # uv build, uv build --sdist, python -m build
    ],
)
def test_a_distributable_build_is_refused_before_anything_is_written(
    builder: type[WheelBuilder] | type[SdistBuilder], tmp_path: Path
) -> None:
    """What hatchling's ``build_wheel`` and ``build_sdist`` do: the ``standard`` version of the target, whose
    hooks run before any file is collected. The hook exits with the message alone (no traceback), which the
    frontends print."""
    backend = builder(str(ROOT))
    with pytest.raises(SystemExit) as refused:
        next(backend.build(directory=str(tmp_path), versions=["standard"]))
    assert refused.value.code == MESSAGE
    assert list(tmp_path.iterdir()) == []


def test_the_editable_install_is_built(tmp_path: Path) -> None:
    """What ``uv sync`` asks for (hatchling's ``build_editable``): a wheel holding the metadata, the ``maas``
    script and a ``.pth`` file that puts the clone's root (``infra``) and ``policies/`` (``azure_maas_policy``)
    on ``sys.path``; no module of the project is copied into it."""
    artifact = Path(next(WheelBuilder(str(ROOT)).build(directory=str(tmp_path), versions=["editable"])))
    assert artifact.name == f"azure_maas-{VERSION}-py3-none-any.whl"
    with zipfile.ZipFile(artifact) as wheel:
        assert sorted(wheel.namelist()) == [
            "_azure_maas.pth",
            f"{DIST_INFO}/METADATA",
            f"{DIST_INFO}/RECORD",
            f"{DIST_INFO}/WHEEL",
            f"{DIST_INFO}/entry_points.txt",
            f"{DIST_INFO}/licenses/LICENSE",
        ]
        assert wheel.read("_azure_maas.pth").decode().splitlines() == [str(ROOT), str(ROOT / "policies")]
        assert wheel.read(f"{DIST_INFO}/entry_points.txt").decode().splitlines() == [
            "[console_scripts]",
            "maas = infra.cli.app:run",
        ]
        metadata = wheel.read(f"{DIST_INFO}/METADATA").decode().splitlines()
    assert [line for line in metadata if line.startswith("Classifier: ")] == ["Classifier: Private :: Do Not Upload"]


def test_pyproject_marks_the_project_private() -> None:
    """PyPI refuses any upload that carries a ``Private ::`` classifier; the hook is configured for every target."""
    assert PYPROJECT["project"]["classifiers"] == ["Private :: Do Not Upload"]
    assert PYPROJECT["tool"]["hatch"]["build"] == {
        "hooks": {"custom": {"path": "scripts/hatch_build.py"}},
        "targets": {"wheel": {"dev-mode-dirs": [".", "policies"]}},
    }


def test_the_installed_distribution() -> None:
    """This environment's install of the clone (``uv sync``): metadata for ``maas --version``, the ``maas``
    script, the private classifier, and the two import names served from the clone itself."""
    distribution = importlib.metadata.distribution("azure-maas")
    assert distribution.version == VERSION
    assert [(e.group, e.name, e.value) for e in distribution.entry_points] == [
        ("console_scripts", "maas", "infra.cli.app:run")
    ]
    assert distribution.metadata.get_all("Classifier") == ["Private :: Do Not Upload"]
    pth = [f for f in distribution.files or [] if f.name.endswith(".pth")]
    assert [f.name for f in pth] == ["_azure_maas.pth"]
    lines = Path(str(distribution.locate_file(pth[0]))).read_text(encoding="utf-8").splitlines()
    assert [Path(line).resolve() for line in lines] == [ROOT, ROOT / "policies"]
    assert Path(infra.__file__) == ROOT / "infra" / "__init__.py"
    assert Path(azure_maas_policy.__file__) == ROOT / "policies" / "azure_maas_policy" / "__init__.py"
