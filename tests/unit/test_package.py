"""The deployment package targets a current Lambda runtime even when built from Python 3.11: the
template says the runtime (python3.12 for dev, python3.13 for prod here: both allowed ones are
built) and every binary inside the zip is built for that CPython on manylinux x86_64; the gateway
responses ride in the API's definition; and every deploying stage's template passes cfn-lint.

Cold (no build/wheels-cache), each runtime's wheels come from PyPI once (about 25 s each here)."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from infra.package import RUNTIMES, build

# All of this module on one xdist worker: each package is built once, not once per worker.
pytestmark = pytest.mark.xdist_group("package")

BUILDS = [("dev", "python3.12"), ("prod", "python3.13")]
C_EXTENSIONS = ("bcrypt", "cryptography", "pydantic_core", "pygeohash")
LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024  # a function's code, unzipped (via S3, as deployed)
# Standard modules gone from the target Python (PEP 594, PEP 632): our code must not import them.
REMOVED = {
    "python3.12": ["distutils", "imp", "asynchat", "asyncore", "smtpd"],
    "python3.13": [
        "aifc",
        "audioop",
        "cgi",
        "cgitb",
        "chunk",
        "crypt",
        "imghdr",
        "mailcap",
        "msilib",
        "nis",
        "nntplib",
        "ossaudiodev",
        "pipes",
        "sndhdr",
        "spwd",
        "sunau",
        "telnetlib",
        "uu",
        "xdrlib",
        "lib2to3",
    ],
}


@pytest.fixture(scope="module", params=BUILDS, ids=[f"{s}-{r}" for s, r in BUILDS])
def package(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    stage, runtime = request.param
    out = tmp_path_factory.mktemp(f"package-{stage}")
    build(stage, runtime, out)  # wheels cached in build/wheels-cache after the first run
    return out, runtime


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


def test_the_template_says_the_runtime_the_binaries_are_built_for(package: tuple[Path, str]) -> None:
    out, runtime = package
    text = (out / "sam.json").read_text()
    template = json.loads(text)
    runtimes = {
        r["Properties"]["Runtime"] for r in template["Resources"].values() if "Runtime" in r.get("Properties", {})
    }
    assert runtimes == {runtime}
    assert set(re.findall(r"python3\.\d+", text)) == {runtime}  # no other Python named anywhere
    deployment = out / "deployment.zip"
    assert mismatches(deployment, runtime) == []
    with zipfile.ZipFile(deployment) as z:
        names = z.namelist()
        unzipped = sum(i.file_size for i in z.infolist())
    assert len(names) == len(set(names))  # chalice's part and the dependencies never overlap
    assert not [n for n in names if re.search(r"cp311|cpython-311", n)]  # nothing built for the packaging Python
    for module in C_EXTENSIONS:  # the C extensions are there, built for the runtime
        assert any(n.startswith(f"{module}/") and n.endswith(".so") for n in names), module
    assert "app.py" in names and "chalicelib/api/routing.py" in names and "chalice/app.py" in names
    assert not any(n.startswith(("boto3/", "bin/", "share/")) for n in names)  # the runtime has boto3
    assert unzipped < LAMBDA_UNZIPPED_LIMIT, unzipped


def test_the_check_sees_binaries_for_another_python(package: tuple[Path, str]) -> None:
    """The tag check can fail: the zip is wrong for the other runtime (its compiled modules would not load)."""
    out, runtime = package
    (other,) = set(RUNTIMES) - {runtime}
    wrong = mismatches(out / "deployment.zip", other)
    built = "cp" + runtime.removeprefix("python").replace(".", "")
    assert any("pydantic_core" in w for w in wrong) and any(built in w for w in wrong), wrong


def test_our_code_imports_nothing_the_runtime_lacks(package: tuple[Path, str]) -> None:
    out, runtime = package
    imported = set()
    with zipfile.ZipFile(out / "deployment.zip") as z:
        for name in z.namelist():
            if name == "app.py" or (name.startswith("chalicelib/") and name.endswith(".py")):
                for node in ast.walk(ast.parse(z.read(name), name)):
                    if isinstance(node, ast.Import):
                        imported |= {a.name.split(".")[0] for a in node.names}
                    elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                        imported.add(node.module.split(".")[0])
    assert "chalicelib" in imported
    gone = {m for r in RUNTIMES[: RUNTIMES.index(runtime) + 1] for m in REMOVED[r]}
    assert imported & gone == set()


def test_gateway_responses_go_out_with_the_api_definition(package: tuple[Path, str]) -> None:
    """In the RestAPI's swagger, which SAM deploys to the stage whenever it changes; not as separate
    AWS::ApiGateway::GatewayResponse resources, which a later code deploy drops from the API."""
    out, _ = package
    resources = json.loads((out / "sam.json").read_text())["Resources"]
    api = resources["RestAPI"]
    assert api["Type"] == "AWS::Serverless::Api"
    body = api["Properties"]["DefinitionBody"]
    assert (
        body["paths"]
        and body["x-amazon-apigateway-gateway-responses"]["MISSING_AUTHENTICATION_TOKEN"]["statusCode"] == "404"
    )
    assert not [r for r in resources.values() if r["Type"] == "AWS::ApiGateway::GatewayResponse"]


def test_the_template_passes_cfn_lint(package: tuple[Path, str]) -> None:
    out, _ = package
    lint = subprocess.run(
        [str(Path(sys.executable).with_name("cfn-lint")), str(out / "sam.json")], capture_output=True, text=True
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr
