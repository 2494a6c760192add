import json
from html.parser import HTMLParser
from typing import Any

import pytest

from review_state import ReviewState
from review_view import EXPORT_CHOICES, View, describe_progress, describe_rate, export_file, render_counts, render_diff
from traces import LoadedDataset, Review, load_dataset_bytes

# Records 2, 5 and 9 of 12 pass the filters.
FILTERED = View(indices=[2, 5, 9], total=12)
UNFILTERED = View(indices=range(4), total=4)
EMPTY = View(indices=[], total=12)


def start_blank(total: int) -> ReviewState:
    return ReviewState.start([Review() for _ in range(total)], [f"output {i}" for i in range(total)])


# View


def test_view_is_filtered_false_for_full_range() -> None:
    assert not UNFILTERED.is_filtered


def test_view_is_filtered_true_for_subset() -> None:
    assert FILTERED.is_filtered


def test_view_is_filtered_true_for_empty_subset() -> None:
    assert EMPTY.is_filtered


def test_view_is_filtered_false_for_empty_dataset() -> None:
    assert not View(indices=[], total=0).is_filtered


@pytest.mark.parametrize(
    ("view", "index", "expected"),
    [
        (UNFILTERED, 0, 1),
        (UNFILTERED, 3, 4),
        (UNFILTERED, 4, 4),
        (FILTERED, 0, 0),
        (FILTERED, 2, 1),
        (FILTERED, 4, 1),
        (FILTERED, 5, 2),
        (FILTERED, 9, 3),
        (FILTERED, 12, 3),
        (EMPTY, 3, 0),
    ],
)
def test_view_rank(view: View, index: int, expected: int) -> None:
    assert view.rank(index) == expected


@pytest.mark.parametrize(
    ("view", "index", "expected"),
    [
        (UNFILTERED, 0, 1),
        (UNFILTERED, 2, 3),
        (UNFILTERED, 3, 4),
        (FILTERED, 0, 2),
        (FILTERED, 2, 5),
        (FILTERED, 3, 5),
        (FILTERED, 5, 9),
        (FILTERED, 9, 12),
        (FILTERED, 11, 12),
        (EMPTY, 0, 12),
    ],
)
def test_view_next_after(view: View, index: int, expected: int) -> None:
    assert view.next_after(index) == expected


@pytest.mark.parametrize(
    ("view", "index", "expected"),
    [
        (UNFILTERED, 0, None),
        (UNFILTERED, 1, 0),
        (UNFILTERED, 4, 3),
        (FILTERED, 0, None),
        (FILTERED, 2, None),
        (FILTERED, 3, 2),
        (FILTERED, 5, 2),
        (FILTERED, 6, 5),
        (FILTERED, 12, 9),
        (EMPTY, 12, None),
    ],
)
def test_view_previous_before(view: View, index: int, expected: int | None) -> None:
    assert view.previous_before(index) == expected


@pytest.mark.parametrize(
    ("view", "index", "expected"),
    [
        (UNFILTERED, 0, 0),
        (UNFILTERED, 3, 3),
        (UNFILTERED, 4, 3),
        (FILTERED, 0, 2),
        (FILTERED, 2, 2),
        (FILTERED, 3, 5),
        (FILTERED, 9, 9),
        (FILTERED, 10, 9),
        (FILTERED, 12, 9),
        (EMPTY, 0, 12),
        (EMPTY, 12, 12),
    ],
)
def test_view_first_from(view: View, index: int, expected: int) -> None:
    assert view.first_from(index) == expected


# describe_progress()


@pytest.mark.parametrize(
    ("total", "indices", "position", "expected"),
    [
        (4, range(4), 0, "Record 1 of 4"),
        (4, range(4), 3, "Record 4 of 4"),
        (4, range(4), 4, "Record 4 of 4"),
        (40, [3, 7, 9, 20, 31], 7, "Record 2 of 5 (filtered from 40)"),
        (40, [3, 7, 9, 20, 31], 0, "Record 1 of 5 (filtered from 40)"),
        (40, [3, 7, 9, 20, 31], 8, "Record 2 of 5 (filtered from 40)"),
        (40, [3, 7, 9, 20, 31], 40, "Record 5 of 5 (filtered from 40)"),
        (40, [], 0, "Record 0 of 0 (filtered from 40)"),
        (0, [], 0, "Record 0 of 0"),
    ],
    ids=[
        "first",
        "last",
        "done",
        "filtered",
        "filtered-before-first",
        "filtered-between",
        "filtered-done",
        "filtered-empty",
        "empty-dataset",
    ],
)
def test_describe_progress(total: int, indices: Any, position: int, expected: str) -> None:
    state = start_blank(total).move_to(position)

    assert describe_progress(state, View(indices=indices, total=total)) == expected


# describe_rate()


@pytest.mark.parametrize(
    ("decisions", "started", "now", "expected"),
    [
        (0, 100.0, 3700.0, "Rate: no decisions yet in this session"),
        (5, 100.0, 100.0, "Rate: no decisions yet in this session"),
        (5, 200.0, 100.0, "Rate: no decisions yet in this session"),
        (30, 100.0, 1900.0, "Rate: 60 records/hour (30 this session)"),
        (1, 1000.0, 4600.0, "Rate: 1 records/hour (1 this session)"),
        (1200, 50.0, 1850.0, "Rate: 2,400 records/hour (1200 this session)"),
        (2, 0.0, 4800.0, "Rate: 2 records/hour (2 this session)"),
    ],
)
def test_describe_rate(decisions: int, started: float, now: float, expected: str) -> None:
    assert describe_rate(decisions, started, now) == expected


def test_describe_rate_now_zero() -> None:
    assert describe_rate(2, -3600.0, 0.0) == "Rate: 2 records/hour (2 this session)"


# render_diff()


def test_render_diff_equal_texts_returns_none() -> None:
    assert render_diff("same text", "same text") is None


def test_render_diff_empty_texts_returns_none() -> None:
    assert render_diff("", "") is None


def test_render_diff_marks_insertion() -> None:
    html = str(render_diff("keep this", "keep this and more"))

    assert "<ins> and more</ins>" in html


def test_render_diff_keeps_equal_text() -> None:
    html = str(render_diff("keep this", "keep this and more"))

    assert "keep this" in html


@pytest.mark.parametrize(
    ("original", "edited"),
    [
        pytest.param("<script>alert(1)</script> answer", "<script>alert(1)</script> answer and more", id="equal-run"),
        pytest.param("answer", "answer <script>alert(1)</script>", id="edited-insert"),
        pytest.param("<script>alert(1)</script> answer", "answer", id="original-delete"),
        pytest.param("<script>a</script>", "<script>b</script>", id="both-replace"),
    ],
)
def test_render_diff_escapes_markup(original: str, edited: str) -> None:
    html = str(render_diff(original, edited))

    assert "&lt;script&gt;" in html


@pytest.mark.parametrize(
    ("original", "edited"),
    [
        pytest.param("<script>alert(1)</script> answer", "<script>alert(1)</script> answer and more", id="equal-run"),
        pytest.param("answer", "answer <script>alert(1)</script>", id="edited-insert"),
        pytest.param("<script>alert(1)</script> answer", "answer", id="original-delete"),
        pytest.param("<script>a</script>", "<script>b</script>", id="both-replace"),
    ],
)
def test_render_diff_leaves_no_raw_script(original: str, edited: str) -> None:
    html = str(render_diff(original, edited))

    assert "<script>" not in html


def test_render_diff_marks_deletion() -> None:
    html = str(render_diff("the quick fox", "the slow fox"))

    assert "<del>quick</del>" in html


# render_counts()


class TableReader(HTMLParser):
    """Collect the body rows of each table as lists of cell texts, keyed by the table's last class."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.table: str | None = None
        self.in_body = False
        self.in_cell = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.table = (dict(attrs).get("class") or "").split()[-1]
            self.tables[self.table] = []
        elif tag == "tbody":
            self.in_body = True
        elif tag == "tr" and self.in_body and self.table is not None:
            self.tables[self.table].append([])
        elif tag == "td" and self.in_body and self.table is not None:
            self.in_cell = True
            self.tables[self.table][-1].append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "tbody":
            self.in_body = False
        elif tag == "td":
            self.in_cell = False

    def handle_data(self, data: str) -> None:
        if self.in_cell and self.table is not None:
            self.tables[self.table][-1][-1] += data


def read_tables(html: str) -> dict[str, list[list[str]]]:
    reader = TableReader()
    reader.feed(html)
    return reader.tables


@pytest.fixture
def counted_state() -> ReviewState:
    """Return a state over four records: two Pending, one Accepted, one Rejected, with labels on three."""
    return ReviewState.start(
        [
            Review(labels=["tone"]),
            Review(status="Accepted", labels=["tone", "facts"]),
            Review(status="Rejected", labels=["<b>bold</b>"]),
            Review(),
        ],
        ["a", "b", "c", "d"],
    )


def test_render_counts_status_rows(counted_state: ReviewState) -> None:
    tables = read_tables(str(render_counts(counted_state)))

    assert tables["counts-table"] == [["Pending", "2"], ["Accepted", "1"], ["Rejected", "1"]]


def test_render_counts_label_rows_sorted(counted_state: ReviewState) -> None:
    tables = read_tables(str(render_counts(counted_state)))

    assert tables["label-counts-table"] == [["<b>bold</b>", "1"], ["facts", "1"], ["tone", "2"]]


def test_render_counts_escapes_label(counted_state: ReviewState) -> None:
    html = str(render_counts(counted_state))

    assert "&lt;b&gt;bold&lt;/b&gt;" in html


def test_render_counts_zero_status_listed() -> None:
    tables = read_tables(str(render_counts(start_blank(3))))

    assert tables["counts-table"] == [["Pending", "3"], ["Accepted", "0"], ["Rejected", "0"]]


def test_render_counts_no_labels_no_label_table() -> None:
    tables = read_tables(str(render_counts(start_blank(3))))

    assert "label-counts-table" not in tables


def test_render_counts_follows_state_changes(counted_state: ReviewState) -> None:
    changed = counted_state.annotate(labels=["length"]).reject()
    tables = read_tables(str(render_counts(changed)))

    assert tables["label-counts-table"] == [["<b>bold</b>", "1"], ["facts", "1"], ["length", "1"], ["tone", "1"]]


def test_render_counts_progress_width(counted_state: ReviewState) -> None:
    html = str(render_counts(counted_state))

    assert 'style="width: 50.0%"' in html


def test_render_counts_empty_dataset_progress_zero() -> None:
    html = str(render_counts(start_blank(0)))

    assert 'style="width: 0.0%"' in html


# export_file()


def make_demo_rows() -> list[dict[str, Any]]:
    """Return three rows in the demo's run-row format, the second one already Accepted."""
    rows = []
    for number, status in enumerate(["Pending", "Accepted", "Pending"], start=1):
        rows.append(
            {
                "child_run": {
                    "inputs": [
                        {"role": "system", "content": "Answer briefly."},
                        {"role": "user", "content": f"Question {number}?"},
                    ],
                    "output": {"role": "assistant", "content": f"Answer {number}."},
                    "funcs": [],
                    "run_id": f"run-{number}",
                },
                "status": status,
            }
        )
    return rows


def load_demo(name: str) -> LoadedDataset:
    return load_dataset_bytes(json.dumps(make_demo_rows()).encode("utf-8"), name)


def review_demo(dataset: LoadedDataset) -> list[Review]:
    """Return the file's reviews with the first record accepted with an edit and the third rejected."""
    reviews = [record.review for record in dataset.records]
    reviews[0] = Review(status="Accepted", edited_output="Edited answer 1.")
    reviews[2] = Review(status="Rejected")
    return reviews


@pytest.mark.parametrize(
    ("name", "choice", "expected"),
    [
        ("runs.json", "original", "runs.curated.json"),
        ("runs.json", "openai", "runs.finetune.jsonl"),
        ("runs.json", "normalized", "runs.reviewed.jsonl"),
        ("runs", "original", "runs.curated.json"),
        ("exports/runs.v2.json", "original", "runs.v2.curated.json"),
        ("exports/runs.v2.json", "openai", "runs.v2.finetune.jsonl"),
    ],
)
def test_export_file_name(name: str, choice: str, expected: str) -> None:
    dataset = load_demo(name)

    file_name, _ = export_file(dataset, review_demo(dataset), choice)

    assert file_name == expected


def test_export_file_demo_is_langsmith_rows() -> None:
    assert load_demo("runs.json").format == "langsmith-rows"


def test_export_file_original_writes_statuses() -> None:
    dataset = load_demo("runs.json")

    _, text = export_file(dataset, review_demo(dataset), "original")

    assert [row["status"] for row in json.loads(text)] == ["Accepted", "Accepted", "Rejected"]


def test_export_file_original_writes_edit() -> None:
    dataset = load_demo("runs.json")

    _, text = export_file(dataset, review_demo(dataset), "original")

    assert json.loads(text)[0]["child_run"]["output"]["content"] == "Edited answer 1."


def test_export_file_openai_keeps_accepted_only() -> None:
    dataset = load_demo("runs.json")

    _, text = export_file(dataset, review_demo(dataset), "openai")

    assert len(text.splitlines()) == 2


def test_export_file_openai_last_message_is_edit() -> None:
    dataset = load_demo("runs.json")

    _, text = export_file(dataset, review_demo(dataset), "openai")

    assert json.loads(text.splitlines()[0])["messages"][-1] == {"role": "assistant", "content": "Edited answer 1."}


def test_export_file_normalized_line_per_record() -> None:
    dataset = load_demo("runs.json")

    _, text = export_file(dataset, review_demo(dataset), "normalized")

    assert [json.loads(line)["review"]["status"] for line in text.splitlines()] == ["Accepted", "Accepted", "Rejected"]


def test_export_file_choices_all_handled() -> None:
    dataset = load_demo("runs.json")

    names = {export_file(dataset, review_demo(dataset), choice)[0] for choice in EXPORT_CHOICES}

    assert names == {"runs.curated.json", "runs.finetune.jsonl", "runs.reviewed.jsonl"}
