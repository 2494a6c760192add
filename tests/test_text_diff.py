import random

import pytest

from text_diff import diff_words, split_words

SPLIT_CASES = [
    pytest.param("", id="empty"),
    pytest.param("word", id="one-word"),
    pytest.param("   ", id="spaces-only"),
    pytest.param("  two  spaces  ", id="leading-trailing-spaces"),
    pytest.param("line one\nline two\n\n", id="newlines"),
    pytest.param("a\r\nb\rc", id="carriage-returns"),
    pytest.param("col\tcol\t\tcol", id="tabs"),
    pytest.param("non\u00a0breaking\u2003em space", id="unicode-spaces"),
    pytest.param("thumbs 👍🏽 up 👨‍👩‍👧", id="emoji"),
    pytest.param("数据 审查 工具。今天", id="cjk"),
    pytest.param("مرحبا بالعالم שלום עולם", id="rtl"),
    pytest.param("cafe\u0301 nai\u0308ve \u0301start", id="combining-accents"),
    pytest.param("<b>bold</b> & \"quoted\"", id="markup"),
]


@pytest.mark.parametrize("text", SPLIT_CASES)
def test_split_words_joins_back_exactly(text: str) -> None:
    assert "".join(split_words(text)) == text


@pytest.mark.parametrize("text", SPLIT_CASES)
def test_split_words_has_no_empty_token(text: str) -> None:
    assert "" not in split_words(text)


@pytest.mark.parametrize("text", SPLIT_CASES)
def test_split_words_tokens_not_mixed(text: str) -> None:
    mixed = [token for token in split_words(text) if not token.isspace() and any(char.isspace() for char in token)]

    assert mixed == []


def test_split_words_separates_words_and_spaces() -> None:
    assert split_words("one  two\nthree") == ["one", "  ", "two", "\n", "three"]


def test_split_words_keeps_combining_accent_with_word() -> None:
    assert split_words("cafe\u0301 ok") == ["cafe\u0301", " ", "ok"]


def join_runs(runs: list[tuple[str, str]], operations: set[str]) -> str:
    """Join the text of the runs whose operation is in `operations`."""
    return "".join(text for operation, text in runs if operation in operations)


DIFF_PAIRS = [
    pytest.param("", "", id="both-empty"),
    pytest.param("", "new text", id="from-empty"),
    pytest.param("old text", "", id="to-empty"),
    pytest.param("same text", "same text", id="equal"),
    pytest.param("the quick fox", "the slow fox", id="one-word"),
    pytest.param("a b c", "c b a", id="reordered"),
    pytest.param("one two", "one  two", id="spacing-only"),
    pytest.param("line one\nline two", "line one\n\nline two\nline three", id="lines-added"),
    pytest.param("keep\tthis", "keep this", id="tab-to-space"),
    pytest.param("猫 が 好き", "犬 が 好き", id="cjk"),
    pytest.param("שלום עולם", "שלום לכולם", id="rtl"),
    pytest.param("cafe\u0301 noir", "café noir", id="combining-vs-precomposed"),
    pytest.param("ok 👍", "ok 👍🏽 thanks", id="emoji"),
    pytest.param("  padded  ", "padded", id="trimmed"),
]


@pytest.mark.parametrize(("original", "edited"), DIFF_PAIRS)
def test_diff_words_equal_and_insert_give_edited(original: str, edited: str) -> None:
    assert join_runs(diff_words(original, edited), {"equal", "insert"}) == edited


@pytest.mark.parametrize(("original", "edited"), DIFF_PAIRS)
def test_diff_words_equal_and_delete_give_original(original: str, edited: str) -> None:
    assert join_runs(diff_words(original, edited), {"equal", "delete"}) == original


@pytest.mark.parametrize(("original", "edited"), DIFF_PAIRS)
def test_diff_words_runs_are_not_empty(original: str, edited: str) -> None:
    assert all(text for _, text in diff_words(original, edited))


@pytest.mark.parametrize(("original", "edited"), DIFF_PAIRS)
def test_diff_words_uses_known_operations(original: str, edited: str) -> None:
    operations = {operation for operation, _ in diff_words(original, edited)}

    assert operations <= {"equal", "insert", "delete"}


def test_diff_words_equal_texts_give_one_equal_run() -> None:
    assert diff_words("same text", "same text") == [("equal", "same text")]


def test_diff_words_empty_texts_give_no_runs() -> None:
    assert diff_words("", "") == []


def test_diff_words_one_word_change() -> None:
    runs = diff_words("the quick brown fox", "the slow brown fox")

    assert runs == [("equal", "the "), ("delete", "quick"), ("insert", "slow"), ("equal", " brown fox")]


@pytest.mark.parametrize(
    ("original", "edited"),
    [
        ("the quick fox", "the slow fox"),
        ("first word here", "1st word here"),
        ("ends with cat", "ends with dog"),
        ("line one\nline two\nline three", "line one\nline 2\nline three"),
    ],
)
def test_diff_words_one_word_change_counts(original: str, edited: str) -> None:
    operations = [operation for operation, _ in diff_words(original, edited)]

    assert (operations.count("delete"), operations.count("insert")) == (1, 1)


def test_diff_words_delete_precedes_insert() -> None:
    operations = [operation for operation, _ in diff_words("a b c", "a x c")]

    assert operations == ["equal", "delete", "insert", "equal"]


FUZZ_ALPHABET = ["a", "b", "cc", "déjà", "数据", "👍", " ", "  ", "\n", "\t", "\u0301"]


def make_fuzz_text(rng: random.Random) -> str:
    return "".join(rng.choice(FUZZ_ALPHABET) for _ in range(rng.randint(0, 30)))


def make_fuzz_edit(rng: random.Random, text: str) -> str:
    """Return `text` with a few random insertions, deletions and replacements of characters."""
    characters = list(text)
    for _ in range(rng.randint(0, 5)):
        position = rng.randint(0, len(characters))
        choice = rng.random()
        if choice < 0.4 or not characters:
            characters.insert(position, rng.choice(FUZZ_ALPHABET))
        elif choice < 0.7:
            del characters[min(position, len(characters) - 1)]
        else:
            characters[min(position, len(characters) - 1)] = rng.choice(FUZZ_ALPHABET)
    return "".join(characters)


def test_diff_words_fuzz_rebuilds_both_texts() -> None:
    rng = random.Random(1234)

    for case in range(500):
        original = make_fuzz_text(rng)
        edited = make_fuzz_edit(rng, original) if rng.random() < 0.8 else make_fuzz_text(rng)
        runs = diff_words(original, edited)

        assert join_runs(runs, {"equal", "insert"}) == edited, f"case {case}: {original!r} -> {edited!r}"
        assert join_runs(runs, {"equal", "delete"}) == original, f"case {case}: {original!r} -> {edited!r}"
