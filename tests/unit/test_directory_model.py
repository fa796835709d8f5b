"""Search terms derived from clinic names: residents find a clinic with or without Swedish letters."""

from __future__ import annotations

import pytest

from directory.model import MAX_TERMS_PER_NAME, CareUnit, Kind, fold, search_terms


@pytest.mark.parametrize(
    ("name", "folded"),
    [
        ("Vårdcentralen Åre", "vardcentralen are"),
        ("VÅRDCENTRALEN ÅRE", "vardcentralen are"),
        ("Öron-, näs- och halsmottagningen Lund", "oron nas och halsmottagningen lund"),
        ("  BVC  Södermalm  ", "bvc sodermalm"),
        ("Tandvården/Älvsjö (Folktandvården)", "tandvarden alvsjo folktandvarden"),
        ("Närakuten 24/7", "narakuten 24 7"),
        ("Hälsocentral Éire", "halsocentral eire"),
        ("", ""),
        ("---", ""),
    ],
)
def test_fold_gives_lowercase_ascii_words_separated_by_single_spaces(name, folded):
    assert fold(name) == folded


def test_names_with_and_without_swedish_letters_fold_alike():
    assert fold("Vårdcentralen Åre") == fold("Vardcentralen Are") == fold("vardcentralen are")


def test_search_terms_are_distinct_words_in_order_of_first_appearance():
    assert search_terms("Vårdcentralen Åre Vardcentralen are Åre Öst") == ["vardcentralen", "are", "ost"]


def test_search_terms_drop_one_character_words():
    assert search_terms("Vårdcentral i Å och S:t Eriks BVC") == ["vardcentral", "och", "eriks", "bvc"]


def test_search_terms_keep_two_character_words_and_numbers():
    assert search_terms("Ung 24 BB Ö") == ["ung", "24", "bb"]


def test_search_terms_are_capped_after_removing_duplicates():
    words = [f"ord{i:02d}" for i in range(MAX_TERMS_PER_NAME + 5)]
    name = " ".join(["ord00", "ord00", "x", *words])

    terms = search_terms(name)

    assert terms == words[:MAX_TERMS_PER_NAME]
    assert len(terms) == MAX_TERMS_PER_NAME


def test_a_name_of_only_short_words_has_no_terms():
    assert search_terms("A B - C") == []


def test_a_care_unit_from_a_feed_message_has_a_folded_sort_name_and_terms():
    unit = CareUnit.from_message(
        {
            "hsa_id": "SE2321000016-A1B2",
            "name": "  Vårdcentralen Åre ",
            "care_provider_hsa_id": "SE2321000016-0001",
            "region_code": "23",
            "municipality": {"code": "2321", "name": "Åre"},
            "kind": "primary_care",
            "active": True,
            "location": {"lat": "63.3986", "lon": 13.0812},
            "address": {"street": "Kyrkvägen 1"},
        }
    )

    assert unit.name == "Vårdcentralen Åre"
    assert unit.sort_name == "vardcentralen are"
    assert unit.terms == ["vardcentralen", "are"]
    assert unit.kind is Kind.PRIMARY_CARE
    assert (unit.lat, unit.lon) == (63.3986, 13.0812)
    assert unit.phone is None
    assert unit.opening_hours == []
