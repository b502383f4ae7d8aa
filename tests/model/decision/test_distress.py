"""Words of distress in a message: what matches and what does not."""

from __future__ import annotations

import pytest

from model.decision.distress import mentions_distress, normalise, phrase_list

PHRASES = phrase_list("stroke*, paraly*, help, can't speak, crooked, लकव*, बोल नहीं, मुँह टेढ़*")


@pytest.mark.parametrize(
    "text",
    [
        "my mother face is crooked help",
        "HELP!!",
        "I think he had a Stroke.",
        "she can’t speak",  # a typographic apostrophe
        "paralysed on one side",
        "मेरे पापा बोल नहीं पा रहे",
        "पापा को लकवा मार गया",
        "लकवे का दौरा",
        "मुंह टेढ़ा हो गया",  # anusvara for chandrabindu
        "मुँह टेढा हो गया",  # no nukta dot
    ],
)
def test_distress_is_found(text: str) -> None:
    assert mentions_distress(text, PHRASES)


@pytest.mark.parametrize("text", ["thanks, very helpful", "hello doctor", "", None, "बोलना"])
def test_other_words_are_not_distress(text: str | None) -> None:
    assert not mentions_distress(text, PHRASES)


def test_a_star_matches_the_start_of_a_word_only() -> None:
    assert mentions_distress("two strokes", PHRASES)  # "stroke*"
    assert not mentions_distress("a heatstroke", PHRASES)  # not inside a word
    assert not mentions_distress("helping", PHRASES)  # "help" has no star: whole word


def test_normalise_folds_case_punctuation_and_hindi_variants() -> None:
    assert normalise("  Can't, SPEAK!! ") == "can't speak"
    assert normalise("मुँह।") == normalise("मुंह") == "मुंह"
    assert normalise("टेढ़ा") == normalise("टेढा")
