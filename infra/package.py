"""Build the deployment for a current Lambda Python runtime, from any local Python.

    python -m infra.package --stage dev --runtime python3.12 --out build/package

Chalice takes the Lambda runtime from the Python that runs it, and would bundle wheels built for
that Python (here 3.11, which Lambda no longer accepts for new functions). So:

1. ``chalice package`` runs on a copy of the project whose requirements.txt is empty: it writes
   the template (merged with infra/template.py's overlay) and a zip of our own code only;
2. the dependencies are installed for the target runtime: ``pip install --platform
   manylinux2014_x86_64 --implementation cp --python-version 3.12 --only-binary=:all:``, so
   every C extension (bcrypt, cryptography, pydantic-core, pygeohash) is the cp312 manylinux
   wheel; downloads are cached in build/wheels-cache;
3. they are added to the zip, and every function's ``Runtime`` in the template is set to it.

boto3 is not bundled (the Lambda runtime provides it; it is not in requirements.txt); botocore is,
at the version PynamoDB asks for.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNTIMES = ("python3.12", "python3.13")
CACHE = ROOT / "build" / "wheels-cache"
# What pip --target writes beside the packages and Lambda never imports: console scripts, man pages.
NOT_IMPORTED = {"bin", "share", ".complete"}


def build(stage: str, runtime: str, out: Path) -> Path:
    """Write ``out/sam.json`` and ``out/deployment.zip``; returns the template's path."""
    if runtime not in RUNTIMES:
        raise SystemExit(f"runtime must be one of {', '.join(RUNTIMES)}")
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "boxoffice"
        _copy_project(project)
        overlay = Path(tmp) / "overlay.json"
        overlay.write_text(_overlay(stage))
        chalice = Path(sys.executable).with_name("chalice")
        subprocess.run(
            [str(chalice), "package", "--stage", stage, "--merge-template", str(overlay), str(Path(tmp) / "pkg")],
            cwd=project,
            env={**os.environ, "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1")},
            check=True,
        )
        site = dependencies(runtime)
        _zip(Path(tmp) / "pkg" / "deployment.zip", site, out / "deployment.zip")
        template = json.loads((Path(tmp) / "pkg" / "sam.json").read_text())
    for resource in template["Resources"].values():
        if "Runtime" in resource.get("Properties", {}):
            resource["Properties"]["Runtime"] = runtime
    (out / "sam.json").write_text(json.dumps(template, indent=2))
    return out / "sam.json"


def _copy_project(project: Path) -> None:
    project.mkdir()
    shutil.copy2(ROOT / "app.py", project / "app.py")
    shutil.copytree(ROOT / "chalicelib", project / "chalicelib", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / ".chalice", project / ".chalice", ignore=shutil.ignore_patterns("deployments"))
    (project / "requirements.txt").write_text("")  # ours come next, built for the target runtime


def _overlay(stage: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "infra.template", "--stage", stage], cwd=ROOT, check=True, capture_output=True, text=True
    )
    return result.stdout


def dependencies(runtime: str) -> Path:
    """requirements.txt installed for ``runtime`` on Lambda (x86_64), cached by its content."""
    version = runtime.removeprefix("python")
    lines = (re.sub(r"(^|\s)#.*", "", line).strip() for line in (ROOT / "requirements.txt").read_text().splitlines())
    requirements = "".join(f"{line}\n" for line in lines if line).encode()  # a comment's edit keeps the cache
    key = hashlib.sha256(requirements + runtime.encode()).hexdigest()[:16]
    target = CACHE / f"site-{runtime}-{key}"
    if (target / ".complete").exists():
        return target
    CACHE.mkdir(parents=True, exist_ok=True)
    # Installed beside, then renamed into place: two builds at once (pytest -n 2) never share a half-made folder.
    with tempfile.TemporaryDirectory(dir=CACHE, prefix=f".{target.name}-") as tmp:
        site = Path(tmp) / "site"
        (Path(tmp) / "requirements.txt").write_bytes(requirements)  # exactly what the key says
        subprocess.run(
            [
                *(sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"),
                *("--platform", "manylinux2014_x86_64", "--implementation", "cp", "--python-version", version),
                *("--only-binary=:all:", "--target", str(site), "--cache-dir", str(CACHE / "pip")),
                *("-r", str(Path(tmp) / "requirements.txt")),
            ],
            check=True,
        )
        (site / ".complete").touch()
        if not (target / ".complete").exists():
            shutil.rmtree(target, ignore_errors=True)
            with contextlib.suppress(OSError):  # another build got there first: its copy is as good
                site.rename(target)
    for stale in CACHE.glob(f"site-{runtime}-*"):  # for requirements.txt as it was before
        if stale != target:
            shutil.rmtree(stale, ignore_errors=True)
    return target


def _zip(ours: Path, site: Path, out: Path) -> None:
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        with zipfile.ZipFile(ours) as code:
            for item in code.infolist():
                z.writestr(item, code.read(item))
        for path in sorted(site.rglob("*")):
            name = path.relative_to(site)
            if path.is_file() and "__pycache__" not in name.parts and name.parts[0] not in NOT_IMPORTED:
                z.write(path, name.as_posix())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.package", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--stage", default="dev")
    parser.add_argument("--runtime", default="python3.12", choices=RUNTIMES)
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "package")
    args = parser.parse_args(argv)
    print(build(args.stage, args.runtime, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
