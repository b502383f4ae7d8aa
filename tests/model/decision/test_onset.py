"""The onset table: finding x "sudden?" x "when?" -> tier and the sentence said back, row by row
(docs/onset.md gives the reasons and the sources)."""

from __future__ import annotations

import pytest

from model.decision.onset import TABLE, Began, Sudden, asks_onset, asks_when, onset_advice
from model.decision.triage import Tier

E, U, S, N, R = Tier.EMERGENCY, Tier.URGENT, Tier.SOON, Tier.NO_SIGNS, Tier.RETAKE
Y, No, NS = Sudden.YES, Sudden.NO, Sudden.UNSURE
H, D, L = Began.HOURS, Began.DAYS, Began.LONGER

# (sudden, when) -> tier after a mild (SOON), moderate (URGENT), emergency finding, and the
# sentence that repeats the answers back. Written out, not computed.
EXPECTED = {
    (Y, None): ((E, E, E), ("sudden", "sudden", "sudden")),
    (No, H): ((E, E, E), ("slow_hours",) * 3),  # hours old: a stroke window however it came
    (No, D): ((U, U, E), ("slow_days", "slow_days", "slow_days_strong")),
    # Slow and old: not an emergency, but a clear droop still sees a doctor within a day or two.
    (No, L): ((S, U, U), ("slow_longer", "slow_longer_strong", "slow_longer_strong")),
    (NS, H): ((E, E, E), ("unsure_hours",) * 3),
    (NS, D): ((E, E, E), ("unsure_days",) * 3),  # not sure, and new: an emergency
    (NS, L): ((U, U, U), ("unsure_longer",) * 3),  # not sure, older: a doctor today
}
BASES = (S, U, E)
ORDER = (E, U, S, N, R)


@pytest.mark.parametrize(("sudden", "began"), list(EXPECTED))
@pytest.mark.parametrize("base", BASES)
def test_onset_table(base: Tier, sudden: Sudden, began: Began | None) -> None:
    tiers, said = EXPECTED[(sudden, began)]
    advice = onset_advice(base, sudden, began)
    assert advice.tier is tiers[BASES.index(base)]
    assert advice.said == said[BASES.index(base)]


def test_every_answer_pair_is_in_the_table_once() -> None:
    pairs = {(Y, None)} | {(s, b) for s in (No, NS) for b in Began}
    assert set(TABLE) == pairs == set(EXPECTED)


@pytest.mark.parametrize("base", BASES)
def test_never_under_calls(base: Tier) -> None:
    """A sudden droop, anything hours old, and "not sure" about a new one are emergencies; a
    new droop (hours, today or yesterday) never goes below the finding's own tier."""
    for began in (None, *Began):
        assert onset_advice(base, Y, began).tier is E  # "yes": whenever it began
    for sudden in (No, NS):
        assert onset_advice(base, sudden, H).tier is E
        for began in (H, D):
            assert ORDER.index(onset_advice(base, sudden, began).tier) <= ORDER.index(base)
    assert onset_advice(base, NS, D).tier is E


@pytest.mark.parametrize("base", BASES)
def test_an_old_slow_asymmetry_is_not_an_emergency_but_needs_a_doctor(base: Tier) -> None:
    assert onset_advice(base, No, L).tier is (S if base is S else U)
    assert onset_advice(base, NS, L).tier is U  # not sure how: it may have been a stroke


@pytest.mark.parametrize(("sudden", "began"), list(EXPECTED))
def test_no_answer_takes_a_clear_droop_below_see_a_doctor_today(
    sudden: Sudden, began: Began | None
) -> None:
    for base in (U, E):
        assert ORDER.index(onset_advice(base, sudden, began).tier) <= ORDER.index(U)


def test_the_sentence_repeats_the_answers() -> None:
    words = {Y: "sudden", No: "slow", NS: "unsure"}
    for (sudden, began), (_, said) in EXPECTED.items():
        for key in said:
            assert key.startswith(words[sudden]) and (began is None or began.value in key)


def test_which_results_ask_and_when_the_second_question_comes() -> None:
    assert [t for t in Tier if asks_onset(t)] == [E, U, S]
    assert not asks_when(Y) and asks_when(No) and asks_when(NS)
    for base in (N, R):
        with pytest.raises(ValueError, match="no onset question"):
            onset_advice(base, Y)
    with pytest.raises(ValueError, match="when"):
        onset_advice(U, No)
