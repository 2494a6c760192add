"""Cohen's kappa and per-record agreement, checked against values computed by hand."""

from __future__ import annotations

import pytest

pytest.importorskip("sqlalchemy")

from team.agreement import RecordAgreement, cohen_kappa, measure_agreement  # noqa: E402 - after the skip


def ratings(both_accepted: int, first_only: int, second_only: int, both_rejected: int) -> tuple[list[str], list[str]]:
    """Build two raters' labels from a 2x2 table: (A, A), (A, R), (R, A), (R, R) counts."""
    first = ["A"] * both_accepted + ["A"] * first_only + ["R"] * second_only + ["R"] * both_rejected
    second = ["A"] * both_accepted + ["R"] * first_only + ["A"] * second_only + ["R"] * both_rejected
    return first, second


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        # p_o = 35/50 = 0.7; first accepts 25/50, second 30/50; p_e = 0.5*0.6 + 0.5*0.4 = 0.5;
        # kappa = (0.7 - 0.5) / 0.5 = 0.4.
        ((20, 5, 10, 15), 0.4),
        # p_o = 0.60; first accepts 0.60, second 0.70; p_e = 0.6*0.7 + 0.4*0.3 = 0.54;
        # kappa = 0.06 / 0.46.
        ((45, 15, 25, 15), 0.06 / 0.46),
        # Full agreement with both labels used: p_o = 1, p_e = 0.5, kappa = 1.
        ((5, 0, 0, 5), 1.0),
        # Full disagreement, both raters at 50 %: p_o = 0, p_e = 0.5, kappa = -1.
        ((0, 5, 5, 0), -1.0),
        # p_o = 0.5 = p_e (first accepts 0.5, second accepts 0.5): chance level, kappa = 0.
        ((1, 1, 1, 1), 0.0),
        # p_o = 8/10; first accepts 9/10, second 7/10; p_e = 0.9*0.7 + 0.1*0.3 = 0.66;
        # kappa = 0.14 / 0.34.
        ((7, 2, 0, 1), 0.14 / 0.34),
    ],
)
def test_cohen_kappa_hand_computed(table, expected):
    first, second = ratings(*table)
    assert cohen_kappa(first, second) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ([], []),
        (["A", "A", "A"], ["A", "A", "A"]),
        (["R"], ["R"]),
    ],
)
def test_cohen_kappa_undefined(first, second):
    assert cohen_kappa(first, second) is None


def test_cohen_kappa_unequal_lengths():
    with pytest.raises(ValueError, match="labelled 2 and 1 items"):
        cohen_kappa(["A", "R"], ["A"])


@pytest.mark.parametrize(
    ("accepted", "rejected", "expected"),
    [
        (0, 1, None),
        (2, 0, 1.0),
        (1, 1, 0.0),
        # Three reviewers, two accept: of 3 pairs only the accepting pair agrees.
        (2, 1, 1 / 3),
        # 3 accept, 2 reject: agreeing pairs 3 + 1 = 4 of 10.
        (3, 2, 0.4),
    ],
)
def test_record_agreement_share(accepted, rejected, expected):
    agreement = RecordAgreement(index=0, accepted=accepted, rejected=rejected).agreement
    if expected is None:
        assert agreement is None
    else:
        assert agreement == pytest.approx(expected)


def test_measure_agreement_skips_pending():
    report = measure_agreement({0: {"alice": "Accepted", "bob": "Pending"}, 1: {"alice": "Pending"}})
    assert [record.index for record in report.records] == [0]
    assert report.pairs == []
    assert report.mean_kappa is None


def test_measure_agreement_mean_kappa():
    decisions = {
        0: {"alice": "Accepted", "bob": "Accepted", "carol": "Accepted"},
        1: {"alice": "Rejected", "bob": "Rejected", "carol": "Accepted"},
        2: {"alice": "Accepted", "bob": "Rejected"},
        3: {"alice": "Rejected", "bob": "Rejected"},
    }
    report = measure_agreement(decisions)
    kappas = {(pair.first, pair.second): pair.kappa for pair in report.pairs}
    # alice/bob over 4 records: table (1, 1, 0, 2), p_o = 3/4, p_e = 1/2*1/4 + 1/2*3/4 = 1/2, kappa = 1/2.
    assert kappas[("alice", "bob")] == pytest.approx(0.5)
    # alice/carol over records 0-1: table (1, 0, 1, 0); carol always accepts, p_e = 1/2*1 + 1/2*0 = 1/2,
    # p_o = 1/2, kappa = 0.
    assert kappas[("alice", "carol")] == pytest.approx(0.0)
    assert kappas[("bob", "carol")] == pytest.approx(0.0)
    assert report.mean_kappa == pytest.approx(0.5 / 3)
    # Agreeing pairs: record 0 3 of 3, record 1 1 of 3, record 2 0 of 1, record 3 1 of 1 = 5 of 8.
    assert report.observed == pytest.approx(5 / 8)
