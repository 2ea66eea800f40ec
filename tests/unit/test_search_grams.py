"""Folding and grams of the search index (store/search.py)."""

from __future__ import annotations

import pytest

from chalicelib.domain.errors import Invalid
from chalicelib.store.search import fold, grams, needle, query_grams


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("José", "jose"),
        ("  JOSÉ   Ñúñez ", "jose nunez"),
        ("Große Straße", "grosse strasse"),
        ("Σωκράτης", "σωκρατησ"),  # casefold makes the final sigma a plain one: any form of it matches
        ("\uff21\uff22\uff23", "abc"),  # full-width letters (NFKD)
        ("ﬁne", "fine"),  # ligature
        ("ジャズ", "シャス"),  # the voicing mark is a combining mark: folded away on both sides
        ("김민수", "김민수"),  # Hangul syllables stay syllables
        ("İstanbul", "istanbul"),
    ],
)
def test_fold(text: str, folded: str) -> None:
    assert fold(text) == folded
    assert fold(folded) == folded  # idempotent


def test_grams_are_the_bigrams_and_trigrams() -> None:
    assert grams("tommy") == {"to", "om", "mm", "my", "tom", "omm", "mmy"}
    assert grams("ab") == {"ab"}
    assert grams("a") == {"a"}
    assert grams("") == set()


def test_a_query_is_answered_from_its_trigrams_or_its_one_bigram() -> None:
    assert query_grams("my") == ["my"]
    assert query_grams("tommy") == ["tom", "omm", "mmy"]
    assert query_grams("aaaa") == ["aaa"]
    assert len(query_grams("x" * 50 + "y" * 50)) <= 100


@pytest.mark.parametrize("q", ["", " ", "a", " é ", "\u0301"])
def test_short_queries_are_refused(q: str) -> None:
    with pytest.raises(Invalid) as e:
        needle(q)
    assert e.value.details[0]["field"] == "q"


def test_every_substring_of_two_or_more_has_a_gram_in_the_text() -> None:
    text = fold("Midnight Jazz at the Basement")
    for i in range(len(text)):
        for j in range(i + 2, len(text) + 1):
            assert set(query_grams(text[i:j])) <= grams(text)
