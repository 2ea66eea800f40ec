"""/docs on AWS: the Lambda package carries the Swagger UI files the page serves, where
chalicelib/api/docs.py looks for them (the dependencies tests/unit/test_package.py zips, built
for the Lambda runtime from requirements.txt)."""

from __future__ import annotations

import pytest

from chalicelib.api import docs
from infra.package import dependencies


def test_the_lambda_dependencies_carry_the_docs_files():
    site = dependencies("python3.12")  # cached in build/wheels-cache after the first run
    static = docs.find_static(site / "swagger_ui_bundle")
    assert static.name == docs.static_dir().name  # the same pinned Swagger UI as here
    for name in docs.ASSETS:
        assert (static / name).read_bytes() == (docs.static_dir() / name).read_bytes(), name


def test_a_missing_package_is_said_plainly(tmp_path):
    with pytest.raises(RuntimeError, match="swagger-ui-bundle-v2"):
        docs.find_static(tmp_path)
