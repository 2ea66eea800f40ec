"""The deployment package targets a current Lambda runtime even when built from Python 3.11: the
template says python3.12 and every binary inside the zip is built for CPython 3.12 on manylinux
x86_64; and every deploying stage's template passes cfn-lint."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from infra.package import build

RUNTIME = "python3.12"
C_EXTENSIONS = ("bcrypt", "cryptography", "pydantic_core", "pygeohash")


@pytest.fixture(scope="module", params=["dev", "prod"])
def package(request, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp(f"package-{request.param}")
    build(request.param, RUNTIME, out)  # wheels cached in build/wheels-cache after the first run
    return out


def mismatches(deployment: Path, runtime: str) -> list[str]:
    """Every wheel tag and compiled module in the zip that would not load on ``runtime`` (x86_64)."""
    cp = "cp" + runtime.removeprefix("python").replace(".", "")
    cpython = "cpython-" + runtime.removeprefix("python").replace(".", "")
    wrong = []
    with zipfile.ZipFile(deployment) as z:
        for name in z.namelist():
            if name.endswith(".dist-info/WHEEL"):
                for tag in re.findall(r"^Tag: (\S+)$", z.read(name).decode(), re.M):
                    python, abi, platform = tag.split("-")
                    pure = abi == "none" and platform == "any" and python.startswith("py")
                    binary = (python == cp or abi == "abi3") and ("manylinux" in platform and "x86_64" in platform)
                    if not (pure or binary):
                        wrong.append(f"{name}: {tag}")
            elif name.endswith(".so") and not (f"{cpython}-x86_64-linux-gnu" in name or ".abi3." in name):
                wrong.append(name)
    return wrong


def test_the_template_says_the_runtime_the_binaries_are_built_for(package):
    template = json.loads((package / "sam.json").read_text())
    runtimes = {
        r["Properties"]["Runtime"] for r in template["Resources"].values() if "Runtime" in r.get("Properties", {})
    }
    assert runtimes == {RUNTIME}
    deployment = package / "deployment.zip"
    assert mismatches(deployment, RUNTIME) == []
    with zipfile.ZipFile(deployment) as z:
        names = z.namelist()
    for module in C_EXTENSIONS:  # the C extensions are there, built for the runtime
        assert any(n.startswith(f"{module}/") and n.endswith(".so") for n in names), module
    assert "app.py" in names and "chalicelib/api/routing.py" in names
    assert not any(n.startswith("boto3/") for n in names)  # the runtime has it


def test_the_check_sees_binaries_for_another_python(package):
    """The tag check can fail: the same zip is wrong for python3.13 (its cp312 modules would not load)."""
    wrong = mismatches(package / "deployment.zip", "python3.13")
    assert any("pydantic_core" in w for w in wrong) and any("cp312" in w for w in wrong)


def test_the_template_passes_cfn_lint(package):
    lint = subprocess.run(
        [str(Path(sys.executable).with_name("cfn-lint")), str(package / "sam.json")], capture_output=True, text=True
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr
