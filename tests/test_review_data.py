import codecs
import copy
import hashlib
import io
import json
from pathlib import Path
from typing import Any

import pytest

from review_data import (
    MAX_LISTED_PROBLEMS,
    STATUSES,
    Dataset,
    DatasetError,
    Message,
    Problem,
    export_dataset,
    load_dataset,
    output_text,
    parse_dataset,
)

SAMPLE_FILES = ["sample_data.json", "sample_data.c4d7f32.json"]

# An assistant output that only calls a function, so its content is null.
FUNCTION_CALL_OUTPUT = {
    "role": "assistant",
    "content": None,
    "function_call": {"name": "f", "arguments": "{}"},
}

# Text from several scripts, including an "e" followed by a combining acute
# accent, which must not be normalized to the single code point "é".
NON_ASCII_TEXT = "Résumé 🦜🛠️ 漢字かな 한국어 مرحبا بالعالم e\u0301 ﷽ \u200d👩‍💻"


def make_row(**fields: Any) -> dict[str, Any]:
    """Build a valid row, with any top-level field replaced by the keyword arguments."""
    row: dict[str, Any] = {
        "child_run": {
            "inputs": [
                {"role": "system", "content": "You answer questions."},
                {"role": "user", "content": "What is LangSmith?"},
            ],
            "output": {"role": "assistant", "content": "A tracing platform."},
            "funcs": [],
            "run_id": "run-1",
        },
        "status": "Pending",
        "total_tokens": 42,
    }
    row.update(fields)
    return row


def make_child_run(**fields: Any) -> dict[str, Any]:
    """Build a valid child_run, with any of its fields replaced by the keyword arguments."""
    child_run = copy.deepcopy(make_row()["child_run"])
    child_run.update(fields)
    return child_run


def encode(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


def to_columns(rows: list[dict[str, Any]], labels: list[str]) -> dict[str, dict[str, Any]]:
    """Build the pandas "columns" layout by hand, with the given index labels."""
    return {column: {label: row[column] for label, row in zip(labels, rows)} for column in rows[0]}


def sample_path(shared_data_dir: Path, file_name: str) -> Path:
    return shared_data_dir / "langfree-langsmith" / file_name


def read_sample_records(shared_data_dir: Path, file_name: str) -> list[dict[str, Any]]:
    return json.loads(sample_path(shared_data_dir, file_name).read_text(encoding="utf-8"))


def parse_rows(rows: list[Any], name: str = "runs.json") -> Dataset:
    return parse_dataset(encode(rows), name)


def raise_dataset_error(data: bytes, name: str = "bad.json") -> DatasetError:
    with pytest.raises(DatasetError) as caught:
        parse_dataset(data, name)
    return caught.value


# --- Loading -----------------------------------------------------------------


@pytest.mark.parametrize("file_name", SAMPLE_FILES)
def test_load_dataset_sample_file(shared_data_dir: Path, file_name: str) -> None:
    dataset = load_dataset(sample_path(shared_data_dir, file_name))

    assert dataset.name == file_name
    assert dataset.layout == "records"
    assert len(dataset.rows) == 4
    assert len(dataset.raw_rows) == 4
    assert dataset.index_labels is None


@pytest.mark.parametrize(
    ("file_name", "statuses"),
    [
        ("sample_data.json", ["Pending", "Pending", "Pending", "Pending"]),
        ("sample_data.c4d7f32.json", ["Accepted", "Accepted", "Accepted", "Pending"]),
    ],
)
def test_load_dataset_sample_statuses(
    shared_data_dir: Path, file_name: str, statuses: list[str]
) -> None:
    dataset = load_dataset(sample_path(shared_data_dir, file_name))

    assert [row.status for row in dataset.rows] == statuses


def test_load_dataset_sample_messages(shared_data_dir: Path) -> None:
    dataset = load_dataset(sample_path(shared_data_dir, "sample_data.json"))
    child_run = dataset.rows[0].child_run

    assert [message.role for message in child_run.inputs] == ["system", "system", "user"]
    assert child_run.inputs[2].content == "How do I use a traceable decorator?"
    assert child_run.output.role == "assistant"
    assert output_text(child_run.output).startswith("The `traceable` decorator")
    assert child_run.run_id == "a05e1668-57b4-4e4d-99d9-1f8578ddba5d"


def test_load_dataset_keeps_raw_rows(shared_data_dir: Path) -> None:
    path = sample_path(shared_data_dir, "sample_data.c4d7f32.json")
    dataset = load_dataset(path)

    assert list(dataset.raw_rows) == json.loads(path.read_text(encoding="utf-8"))


def test_load_dataset_keeps_extra_fields(shared_data_dir: Path) -> None:
    dataset = load_dataset(sample_path(shared_data_dir, "sample_data.c4d7f32.json"))
    extra = dataset.rows[0].model_extra

    assert extra is not None
    assert extra["warnings"] == ["Last Step Not ChatOpenAI"]
    assert extra["total_tokens"] == 5848


def test_load_dataset_id_is_sha256(shared_data_dir: Path) -> None:
    path = sample_path(shared_data_dir, "sample_data.json")
    dataset = load_dataset(path)

    assert dataset.dataset_id == hashlib.sha256(path.read_bytes()).hexdigest()


def test_load_dataset_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.json"

    with pytest.raises(DatasetError) as caught:
        load_dataset(path)

    assert caught.value.name == str(path)
    assert str(path) in str(caught.value)
    assert "failed to read the file" in str(caught.value)


def test_load_dataset_accepts_str_path(tmp_path: Path) -> None:
    path = tmp_path / "runs.json"
    path.write_bytes(encode([make_row()]))

    dataset = load_dataset(str(path))

    assert dataset.name == "runs.json"


def test_parse_dataset_id_equal_for_equal_bytes() -> None:
    data = encode([make_row()])

    first = parse_dataset(data, "a.json")
    second = parse_dataset(data, "b.json")

    assert first.dataset_id == second.dataset_id


def test_parse_dataset_id_differs_for_other_bytes() -> None:
    first = parse_dataset(encode([make_row()]), "a.json")
    second = parse_dataset(encode([make_row(status="Accepted")]), "a.json")

    assert first.dataset_id != second.dataset_id


def test_parse_dataset_accepts_bom() -> None:
    dataset = parse_dataset(codecs.BOM_UTF8 + encode([make_row()]), "bom.json")

    assert len(dataset.rows) == 1


def test_parse_dataset_status_defaults_to_pending() -> None:
    row = make_row()
    del row["status"]

    dataset = parse_dataset(encode([row]), "runs.json")

    assert dataset.rows[0].status == "Pending"


def test_parse_dataset_function_messages() -> None:
    child_run = make_child_run(
        inputs=[
            {"role": "user", "content": "Weather in Paris?"},
            {
                "role": "assistant",
                "content": None,
                "function_call": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
            },
            {"role": "function", "name": "get_weather", "content": '{"temp_c": 21}'},
        ],
        output={
            "role": "assistant",
            "content": None,
            "function_call": {"name": "get_weather", "arguments": {"city": "Lyon"}},
        },
    )

    dataset = parse_dataset(encode([make_row(child_run=child_run)]), "runs.json")
    inputs = dataset.rows[0].child_run.inputs
    output = dataset.rows[0].child_run.output

    assert inputs[1].function_call is not None
    assert inputs[1].function_call.arguments == '{"city": "Paris"}'
    assert inputs[2].name == "get_weather"
    assert output.function_call is not None
    assert output.function_call.arguments == {"city": "Lyon"}
    assert output_text(output) == ""


def test_parse_dataset_keeps_message_extra_fields() -> None:
    child_run = make_child_run(output={"role": "assistant", "content": "Hi", "refusal": None})

    dataset = parse_dataset(encode([make_row(child_run=child_run)]), "runs.json")

    assert dataset.rows[0].child_run.output.model_extra == {"refusal": None}


# --- Columns layout ----------------------------------------------------------


def test_parse_dataset_columns_layout() -> None:
    rows = [make_row(status="Accepted"), make_row(status="Rejected"), make_row()]
    table = to_columns(rows, ["0", "1", "2"])

    dataset = parse_dataset(encode(table), "columns.json")

    assert dataset.layout == "columns"
    assert dataset.index_labels == ("0", "1", "2")
    assert [row.status for row in dataset.rows] == ["Accepted", "Rejected", "Pending"]
    assert list(dataset.raw_rows) == rows


def test_parse_dataset_columns_order_of_first_column() -> None:
    rows = [make_row(status="Accepted"), make_row(status="Rejected")]
    table = to_columns(rows, ["b", "a"])
    # Later columns list their labels in another order, which must not change the row order.
    table["status"] = {"a": "Rejected", "b": "Accepted"}

    dataset = parse_dataset(encode(table), "columns.json")

    assert dataset.index_labels == ("b", "a")
    assert [row.status for row in dataset.rows] == ["Accepted", "Rejected"]


def test_parse_dataset_columns_from_pandas(shared_data_dir: Path) -> None:
    pandas = pytest.importorskip("pandas")
    records = read_sample_records(shared_data_dir, "sample_data.c4d7f32.json")

    table_json = pandas.DataFrame(records).to_json()
    dataset = parse_dataset(table_json.encode("utf-8"), "from_pandas.json")

    assert dataset.layout == "columns"
    assert dataset.index_labels == ("0", "1", "2", "3")
    assert [row.status for row in dataset.rows] == ["Accepted", "Accepted", "Accepted", "Pending"]
    assert [row.child_run.run_id for row in dataset.rows] == [
        record["child_run"]["run_id"] for record in records
    ]


# --- Malformed files ---------------------------------------------------------


def columns_with_missing_label() -> bytes:
    table = to_columns([make_row(), make_row()], ["0", "1"])
    del table["status"]["1"]
    return encode(table)


def columns_with_extra_label() -> bytes:
    table = to_columns([make_row(), make_row()], ["0", "1"])
    table["total_tokens"]["7"] = 1
    return encode(table)


MALFORMED_CASES = [
    pytest.param(b"[{", ["not valid JSON", "line 1, column 3"], id="not-json"),
    pytest.param(b'[\n  {"a": 1},\n  oops\n]', ["not valid JSON", "line 3, column 3"], id="not-json-line"),
    pytest.param(b"", ["the file is empty", "a JSON list of rows"], id="empty-file"),
    pytest.param(
        b'["caf\xe9"]',
        ["not UTF-8 text", "0xe9", "offset 5", "save the file again as UTF-8"],
        id="latin-1",
    ),
    pytest.param(
        b"42",
        ["found 42 at the top level", "a JSON list of rows, or a pandas 'columns' table"],
        id="top-level-number",
    ),
    pytest.param(
        b'"runs"',
        ['found "runs" at the top level', "a JSON list of rows, or a pandas 'columns' table"],
        id="top-level-string",
    ),
    pytest.param(b"[]", ["found an empty list", "a JSON list of rows", "at least one row"], id="empty-list"),
    pytest.param(b"{}", ["found an empty object", "at least one row"], id="empty-object"),
    pytest.param(
        encode([make_row(), 7]),
        ["record 1: found 7", 'expected an object with "child_run" and "status"'],
        id="row-not-object",
    ),
    pytest.param(
        encode([{"status": "Pending"}]),
        ["record 0, field child_run: missing", 'expected an object with "inputs"'],
        id="child-run-missing",
    ),
    pytest.param(
        encode([make_row(child_run="hello")]),
        ['record 0, field child_run: found "hello"', 'expected an object with "inputs"'],
        id="child-run-string",
    ),
    pytest.param(
        encode([make_row(child_run=make_child_run(inputs={"role": "user"}))]),
        ['record 0, field child_run.inputs: found {"role": "user"}', "expected a list of messages"],
        id="inputs-not-list",
    ),
    pytest.param(
        encode([make_row(child_run=make_child_run(inputs=[{"content": "Hi"}]))]),
        ["record 0, field child_run.inputs[0].role: missing", 'expected a string such as "user"'],
        id="message-without-role",
    ),
    pytest.param(
        encode([make_row(child_run=make_child_run(inputs=["Hi"]))]),
        ['record 0, field child_run.inputs[0]: found "Hi"', 'expected a message object with "role"'],
        id="message-not-object",
    ),
    pytest.param(
        encode([make_row(child_run=make_child_run(output={"role": "assistant", "content": 5}))]),
        ["record 0, field child_run.output.content: found 5", "expected a string or null"],
        id="content-number",
    ),
    pytest.param(
        encode([make_row(child_run=make_child_run(output={"content": "Hi"}))]),
        ["record 0, field child_run.output.role: missing", 'expected a string such as "user"'],
        id="output-without-role",
    ),
    pytest.param(
        encode([make_row(child_run=make_child_run(output=None))]),
        ["record 0, field child_run.output: found null", 'expected a message object with "role"'],
        id="output-null",
    ),
    pytest.param(
        encode(
            [
                make_row(
                    child_run=make_child_run(
                        output={"role": "assistant", "function_call": {"name": "f", "arguments": 3}}
                    )
                )
            ]
        ),
        ["field child_run.output.function_call.arguments: found 3", "expected a JSON string or an object"],
        id="arguments-number",
    ),
    pytest.param(
        encode([make_row(child_run=make_child_run(run_id=12))]),
        ["record 0, field child_run.run_id: found 12", "expected a string or null"],
        id="run-id-number",
    ),
    pytest.param(
        encode([make_row(status="Done")]),
        ['record 0, field status: found "Done"', 'expected one of "Pending", "Accepted", "Rejected"'],
        id="status-done",
    ),
    pytest.param(
        encode([make_row(status=None)]),
        ["record 0, field status: found null", 'expected one of "Pending"'],
        id="status-null",
    ),
    pytest.param(
        columns_with_missing_label(),
        ["record 1, field status: missing", 'index label of the first column "child_run"'],
        id="columns-missing-label",
    ),
    pytest.param(
        columns_with_extra_label(),
        ["record 7, field total_tokens: found an extra index label", 'first column "child_run"'],
        id="columns-extra-label",
    ),
    pytest.param(
        encode({"child_run": {"0": make_row()["child_run"]}, "status": "Pending"}),
        ['field status: found "Pending"', "maps index labels to values", "a pandas 'columns' table"],
        id="columns-not-object",
    ),
    pytest.param(
        encode({"child_run": {}, "status": {}}),
        ["the table has no rows", "at least one row"],
        id="columns-no-rows",
    ),
]


@pytest.mark.parametrize(("data", "fragments"), MALFORMED_CASES)
def test_parse_dataset_malformed(data: bytes, fragments: list[str]) -> None:
    error = raise_dataset_error(data, "bad.json")
    message = str(error)

    assert message.startswith("Invalid dataset bad.json: 1 problem\n")
    for fragment in fragments:
        assert fragment in message


def test_parse_dataset_malformed_is_value_error() -> None:
    with pytest.raises(ValueError):
        parse_dataset(b"42", "bad.json")


def test_parse_dataset_file_problem_has_no_record() -> None:
    error = raise_dataset_error(b"42")

    assert error.name == "bad.json"
    assert len(error.problems) == 1
    assert error.problems[0].record is None


def test_parse_dataset_problem_fields() -> None:
    data = encode([make_row(), make_row(child_run=make_child_run(inputs=[{"content": "Hi"}]))])

    error = raise_dataset_error(data)

    assert error.problems == [
        Problem(1, "child_run.inputs[0].role", 'missing; expected a string such as "user"')
    ]


def test_parse_dataset_columns_problem_uses_label() -> None:
    rows = [make_row(), make_row(status="Done")]
    table = to_columns(rows, ["first", "second"])

    error = raise_dataset_error(encode(table))

    assert [problem.record for problem in error.problems] == ["second"]
    assert "record second, field status" in str(error)


def test_parse_dataset_lists_every_bad_record() -> None:
    rows = [
        make_row(),
        make_row(status="Done"),
        "not a row",
        make_row(),
        make_row(child_run=make_child_run(inputs=[{"content": "Hi"}, {"role": 3}])),
    ]

    error = raise_dataset_error(encode(rows))
    message = str(error)

    assert [problem.record for problem in error.problems] == [1, 2, 4, 4]
    assert message.startswith("Invalid dataset bad.json: 4 problems\n")
    assert "record 1, field status" in message
    assert "record 2: found" in message
    assert "record 4, field child_run.inputs[0].role: missing" in message
    assert "record 4, field child_run.inputs[1].role: found 3" in message
    assert "record 0" not in message
    assert "record 3" not in message


def test_parse_dataset_union_error_reported_once() -> None:
    output = {"role": "assistant", "function_call": {"name": "f", "arguments": [1]}}
    data = encode([make_row(child_run=make_child_run(output=output))])

    error = raise_dataset_error(data)

    fields = [problem.field for problem in error.problems]
    assert fields == ["child_run.output.function_call.arguments"]


def test_dataset_error_caps_listed_problems() -> None:
    rows = [make_row(status="Done") for _ in range(MAX_LISTED_PROBLEMS + 10)]

    error = raise_dataset_error(encode(rows))
    lines = str(error).splitlines()

    assert len(error.problems) == MAX_LISTED_PROBLEMS + 10
    assert lines[0] == f"Invalid dataset bad.json: {MAX_LISTED_PROBLEMS + 10} problems"
    assert len(lines) == 1 + MAX_LISTED_PROBLEMS + 1
    assert lines[-1] == "  ... and 10 more problems"


def test_dataset_error_shortens_found_value() -> None:
    long_content = ["x" * 500]
    output = {"role": "assistant", "content": long_content}
    data = encode([make_row(child_run=make_child_run(output=output))])

    message = str(raise_dataset_error(data))
    found = message.split("found ", 1)[1].split("; expected", 1)[0]

    assert found.endswith("...")
    assert len(found) <= 60


# --- Output text -------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "expected"),
    [("Hello", "Hello"), ("", ""), (None, "")],
)
def test_output_text_content(content: str | None, expected: str) -> None:
    assert output_text(Message(role="assistant", content=content)) == expected


# --- Export ------------------------------------------------------------------


def original_reviews(dataset: Dataset) -> list[tuple[str, str]]:
    return [(row.status, output_text(row.child_run.output)) for row in dataset.rows]


def edited_reviews(dataset: Dataset) -> list[tuple[str, str]]:
    """Give each record another status, in turn, and an edited output for every second record."""
    reviews = []
    for index, row in enumerate(dataset.rows):
        status = STATUSES[(STATUSES.index(row.status) + 1 + index) % len(STATUSES)]
        output = output_text(row.child_run.output)
        if index % 2 == 0:
            output = f"Edited answer {index}: {NON_ASCII_TEXT}"
        reviews.append((status, output))
    return reviews


def expected_raw_rows(dataset: Dataset, reviews: list[tuple[str, str]]) -> list[dict[str, Any]]:
    rows = copy.deepcopy(list(dataset.raw_rows))
    for row, parsed, (status, output) in zip(rows, dataset.rows, reviews):
        row["status"] = status
        if output != output_text(parsed.child_run.output):
            row["child_run"]["output"]["content"] = output
    return rows


def assert_round_trip(dataset: Dataset, reviews: list[tuple[str, str]]) -> None:
    exported = export_dataset(dataset, reviews)
    reparsed = parse_dataset(exported.encode("utf-8"), dataset.name)

    assert reparsed.layout == dataset.layout
    assert reparsed.index_labels == dataset.index_labels
    assert [row.status for row in reparsed.rows] == [status for status, _ in reviews]
    assert [output_text(row.child_run.output) for row in reparsed.rows] == [
        output for _, output in reviews
    ]
    assert list(reparsed.raw_rows) == expected_raw_rows(dataset, reviews)


@pytest.mark.parametrize("file_name", SAMPLE_FILES)
def test_export_dataset_round_trip_sample(shared_data_dir: Path, file_name: str) -> None:
    dataset = load_dataset(sample_path(shared_data_dir, file_name))

    assert_round_trip(dataset, edited_reviews(dataset))


@pytest.mark.parametrize("file_name", SAMPLE_FILES)
def test_export_dataset_unchanged_sample(shared_data_dir: Path, file_name: str) -> None:
    path = sample_path(shared_data_dir, file_name)
    dataset = load_dataset(path)

    exported = export_dataset(dataset, original_reviews(dataset))

    assert json.loads(exported) == json.loads(path.read_text(encoding="utf-8"))


def test_export_dataset_round_trip_columns(shared_data_dir: Path) -> None:
    records = read_sample_records(shared_data_dir, "sample_data.json")
    table = to_columns(records, ["10", "2", "x"] + ["last"])
    dataset = parse_dataset(encode(table), "columns.json")

    assert_round_trip(dataset, edited_reviews(dataset))


def test_export_dataset_columns_layout_kept() -> None:
    rows = [make_row(), make_row()]
    table = to_columns(rows, ["b", "a"])
    dataset = parse_dataset(encode(table), "columns.json")

    exported = json.loads(export_dataset(dataset, [("Accepted", "One"), ("Rejected", "Two")]))

    assert list(exported) == list(table)
    assert list(exported["status"]) == ["b", "a"]
    assert exported["status"] == {"b": "Accepted", "a": "Rejected"}
    assert exported["child_run"]["a"]["output"]["content"] == "Two"
    assert exported["total_tokens"] == table["total_tokens"]


def test_export_dataset_round_trip_pandas_columns(shared_data_dir: Path) -> None:
    pandas = pytest.importorskip("pandas")
    records = read_sample_records(shared_data_dir, "sample_data.json")
    dataset = parse_dataset(pandas.DataFrame(records).to_json().encode("utf-8"), "from_pandas.json")

    assert_round_trip(dataset, edited_reviews(dataset))


def test_export_dataset_pandas_reads_columns(shared_data_dir: Path) -> None:
    pandas = pytest.importorskip("pandas")
    records = read_sample_records(shared_data_dir, "sample_data.json")
    dataset = parse_dataset(pandas.DataFrame(records).to_json().encode("utf-8"), "from_pandas.json")
    reviews = edited_reviews(dataset)

    frame = pandas.read_json(io.StringIO(export_dataset(dataset, reviews)))

    assert list(frame["status"]) == [status for status, _ in reviews]
    assert frame["child_run"].iloc[0]["output"]["content"] == reviews[0][1]


def test_export_dataset_status_added_when_missing() -> None:
    row = make_row()
    del row["status"]
    dataset = parse_dataset(encode([row]), "runs.json")

    exported = json.loads(export_dataset(dataset, [("Accepted", "A tracing platform.")]))

    assert exported[0]["status"] == "Accepted"


def test_export_dataset_untouched_null_content_stays_null() -> None:
    dataset = parse_rows([make_row(child_run=make_child_run(output=FUNCTION_CALL_OUTPUT))])

    exported = json.loads(export_dataset(dataset, [("Accepted", "")]))

    assert exported[0]["child_run"]["output"]["content"] is None
    assert exported[0]["child_run"]["output"]["function_call"] == {"name": "f", "arguments": "{}"}


def test_export_dataset_edited_null_content_written() -> None:
    dataset = parse_rows([make_row(child_run=make_child_run(output=FUNCTION_CALL_OUTPUT))])

    exported = json.loads(export_dataset(dataset, [("Accepted", "Called f.")]))

    assert exported[0]["child_run"]["output"]["content"] == "Called f."


def test_export_dataset_missing_content_stays_missing() -> None:
    dataset = parse_rows([make_row(child_run=make_child_run(output={"role": "assistant"}))])

    exported = json.loads(export_dataset(dataset, [("Rejected", "")]))

    assert "content" not in exported[0]["child_run"]["output"]


def test_export_dataset_non_ascii_byte_for_byte() -> None:
    row = make_row(
        child_run=make_child_run(output={"role": "assistant", "content": NON_ASCII_TEXT}),
        note=NON_ASCII_TEXT,
    )
    dataset = parse_dataset(encode([row]), "unicode.json")
    edited = "Corrigé: " + NON_ASCII_TEXT

    exported = export_dataset(dataset, [("Accepted", edited)])
    exported_bytes = exported.encode("utf-8")
    reparsed = parse_dataset(exported_bytes, "unicode.json")

    assert "\\u" not in exported
    assert edited.encode("utf-8") in exported_bytes
    assert NON_ASCII_TEXT.encode("utf-8") in exported_bytes
    assert output_text(reparsed.rows[0].child_run.output) == edited
    assert reparsed.raw_rows[0]["note"] == NON_ASCII_TEXT


def test_export_dataset_non_ascii_sample_unchanged(shared_data_dir: Path) -> None:
    dataset = load_dataset(sample_path(shared_data_dir, "sample_data.json"))
    system_prompt = dataset.raw_rows[1]["child_run"]["inputs"][1]["content"]

    exported = export_dataset(dataset, original_reviews(dataset))

    assert "🦜" in system_prompt
    assert json.dumps(system_prompt, ensure_ascii=False) in exported


def test_export_dataset_does_not_mutate_raw_rows() -> None:
    rows = [make_row(), make_row()]
    dataset = parse_dataset(encode(rows), "runs.json")
    before = copy.deepcopy(list(dataset.raw_rows))

    export_dataset(dataset, [("Accepted", "Changed"), ("Rejected", "Also changed")])

    assert list(dataset.raw_rows) == before


@pytest.mark.parametrize("count", [0, 1, 3])
def test_export_dataset_wrong_review_count(count: int) -> None:
    dataset = parse_dataset(encode([make_row(), make_row()]), "runs.json")

    with pytest.raises(ValueError, match=f"got {count} reviews for 2 records"):
        export_dataset(dataset, [("Pending", "")] * count)


def test_export_dataset_invalid_status() -> None:
    dataset = parse_dataset(encode([make_row()]), "runs.json")

    with pytest.raises(ValueError, match="'Done' for record 0"):
        export_dataset(dataset, [("Done", "A tracing platform.")])  # type: ignore[list-item]


def test_export_dataset_invalid_output() -> None:
    dataset = parse_dataset(encode([make_row()]), "runs.json")

    with pytest.raises(ValueError, match="record 0: found NoneType; expected a string"):
        export_dataset(dataset, [("Accepted", None)])  # type: ignore[list-item]
