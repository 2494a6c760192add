import json
from pathlib import Path
from typing import Any

import pytest

from traces import (
    LoadedDataset,
    Message,
    Record,
    Review,
    TextPart,
    ToolCallPart,
    apply_review,
    export_normalized_jsonl,
    export_openai_finetune,
    export_original,
    list_unstored_edits,
    load_dataset_bytes,
    load_dataset_file,
)
from traces.documents import assign_paths

from traces_samples import (
    ANTHROPIC_REQUEST,
    FLAT_SPANS,
    LANGCHAIN_RUNS,
    LANGFUSE_OBSERVATIONS,
    REAL_FILES,
    make_otlp_export,
    make_structured_otlp_export,
)

# An "e" with a combining accent, emoji with joiners, CJK and right-to-left text.
EDIT_TEXT = "Corrigé e\u0301 👩‍💻 漢字 مرحبا"

REAL_PATHS = [row[0] for row in REAL_FILES]


def default_reviews(dataset: LoadedDataset) -> list[Review]:
    return [record.review for record in dataset.records]


def editing_reviews(dataset: LoadedDataset) -> list[Review]:
    """Edit the output of every record that has one, and accept it."""
    return [
        (
            Review(status="Accepted", edited_output=f"{EDIT_TEXT} {index}")
            if record.output is not None
            else record.review
        )
        for index, record in enumerate(dataset.records)
    ]


def reload(dataset: LoadedDataset, data: bytes) -> LoadedDataset:
    return load_dataset_bytes(data, dataset.name, format=dataset.format)


def encode(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


def without_review(record: Record) -> dict[str, Any]:
    dumped = record.model_dump(mode="json")
    del dumped["review"]
    return dumped


def assert_round_trip(dataset: LoadedDataset, reviews: list[Review]) -> LoadedDataset:
    """Export with the reviews, read back, and check each record equals the reviewed original."""
    assert list_unstored_edits(dataset, reviews) == []
    reread = reload(dataset, export_original(dataset, reviews))

    assert len(reread.records) == len(dataset.records)
    for before, after, review in zip(dataset.records, reread.records, reviews):
        assert without_review(after) == without_review(apply_review(before, review))
    return reread


# --- export_original: unchanged data -------------------------------------------


@pytest.mark.parametrize("relative_path", REAL_PATHS)
def test_export_original_default_reviews_byte_equal(
    shared_data_dir: Path, relative_path: str
) -> None:
    path = shared_data_dir / relative_path
    dataset = load_dataset_file(path)

    assert export_original(dataset, default_reviews(dataset)) == path.read_bytes()


@pytest.mark.parametrize(
    "relative_path", [path for path in REAL_PATHS if not path.endswith(".jsonl")]
)
def test_export_original_style_reproduces_real_json(
    shared_data_dir: Path, relative_path: str
) -> None:
    # The json.dumps settings found for the file re-serialize it byte for byte,
    # so an edited export differs only where the edit is.
    path = shared_data_dir / relative_path
    dataset = load_dataset_file(path)
    document = dataset.source.document

    assert document.style.exact
    assert document.style.dumps(json.loads(path.read_bytes())) + document.suffix == path.read_text(
        encoding="utf-8"
    )


# --- export_original: edits ------------------------------------------------------


@pytest.mark.parametrize("relative_path", REAL_PATHS)
def test_export_original_real_round_trip(shared_data_dir: Path, relative_path: str) -> None:
    dataset = load_dataset_file(shared_data_dir / relative_path)

    assert_round_trip(dataset, editing_reviews(dataset))


@pytest.mark.parametrize(
    "relative_path",
    [
        "langfree-langsmith/sample_data.json",
        "langsmith-sdk/langsmith_py_wrap_openai_reasoning.json",
        "llama-factory/glaive_toolcall_en_demo.json",
        "llama-factory/kto_en_demo.json",
        "foundry-toolcall/stock_toolcall_training.jsonl",
    ],
)
def test_export_original_changes_only_edited_lines(
    shared_data_dir: Path, relative_path: str
) -> None:
    path = shared_data_dir / relative_path
    dataset = load_dataset_file(path)
    reviews = [
        Review(edited_output=EDIT_TEXT) if index == 1 or len(dataset.records) == 1 else Review()
        for index in range(len(dataset.records))
    ]

    before = path.read_bytes().split(b"\n")
    after = export_original(dataset, reviews).split(b"\n")
    changed = [new for old, new in zip(before, after) if old != new]

    assert len(after) == len(before)
    assert len(changed) == 1
    # An all-ASCII file stays ASCII, so the edit may be written with \u escapes.
    assert json.dumps(EDIT_TEXT, ensure_ascii=changed[0].isascii())[1:-1].encode() in changed[0]


def test_export_original_other_layout_json_equal() -> None:
    # Sorted keys and a 3-space indent with a tab: no json.dumps setting tried reproduces it.
    data = b'{\n\t"messages" : [ {"content": "Hi", "role": "user"},\n {"content": "Yo", "role": "assistant"} ]\n}'
    dataset = load_dataset_bytes(data, "odd.json")

    exported = export_original(dataset, [Review(edited_output="Hello")])

    assert not dataset.source.document.style.exact
    assert json.loads(exported) == {
        "messages": [{"content": "Hi", "role": "user"}, {"content": "Hello", "role": "assistant"}]
    }


def test_export_original_rows_status_written(shared_data_dir: Path) -> None:
    dataset = load_dataset_file(shared_data_dir / "langfree-langsmith/sample_data.json")
    reviews = [Review(status="Accepted"), Review(status="Rejected"), Review(), Review()]

    rows = json.loads(export_original(dataset, reviews))

    assert [row["status"] for row in rows] == ["Accepted", "Rejected", "Pending", "Pending"]


def test_export_rows_note_labels_round_trip(shared_data_dir: Path) -> None:
    dataset = load_dataset_file(shared_data_dir / "langfree-langsmith/sample_data.json")
    reviews = [Review(status="Accepted", note="checked", labels=["tone", "facts"])] + [
        Review() for _ in dataset.records[1:]
    ]

    exported = export_original(dataset, reviews)
    rows = json.loads(exported)
    reloaded = reload(dataset, exported)

    assert rows[0]["note"] == "checked"
    assert rows[0]["labels"] == ["tone", "facts"]
    assert "note" not in rows[1]
    assert "labels" not in rows[1]
    assert reloaded.records[0].review == reviews[0]
    assert reloaded.records[1].review == Review()
    assert "note" not in reloaded.records[0].metadata


def test_export_original_rows_note_cleared(shared_data_dir: Path) -> None:
    dataset = load_dataset_file(shared_data_dir / "langfree-langsmith/sample_data.json")
    first = reload(dataset, export_original(dataset, [Review(note="x", labels=["a"])] + default_reviews(dataset)[1:]))

    rows = json.loads(export_original(first, [Review()] + default_reviews(first)[1:]))

    assert rows[0]["note"] == ""
    assert rows[0]["labels"] == []


def test_export_original_pandas_table_note_column() -> None:
    table = {
        "child_run": {
            str(index): {"inputs": [], "output": {"role": "assistant", "content": str(index)}}
            for index in range(3)
        },
        "status": {str(index): "Pending" for index in range(3)},
    }
    dataset = load_dataset_bytes(encode(table), "table.json")
    reviews = [Review(), Review(note="late", labels=["x"]), Review()]

    exported = export_original(dataset, reviews)
    reloaded = load_dataset_bytes(exported, "table.json")

    assert json.loads(exported)["note"] == {"0": "", "1": "late", "2": ""}
    assert json.loads(exported)["labels"] == {"0": [], "1": ["x"], "2": []}
    assert [record.review for record in reloaded.records] == reviews
    assert reloaded.problems == []


def make_rows(count: int, **fields: Any) -> list[dict[str, Any]]:
    """Return `count` demo rows with one-message inputs and `fields` added to each."""
    return [
        {
            "child_run": {
                "inputs": [{"role": "user", "content": f"q{index}"}],
                "output": {"role": "assistant", "content": f"a{index}"},
                "run_id": f"run-{index}",
            },
            "status": "Pending",
            **fields,
        }
        for index in range(count)
    ]


def test_export_original_rows_untouched_fields_kept() -> None:
    rows = make_rows(2, note=None, labels=None)
    rows[1]["labels"] = ["b", "b"]
    dataset = load_dataset_bytes(encode(rows), "rows.json")
    reviews = [record.review.model_copy(update={"status": "Accepted"}) for record in dataset.records]

    exported = json.loads(export_original(dataset, reviews))

    assert exported[0]["note"] is None
    assert exported[0]["labels"] is None
    assert exported[1]["labels"] == ["b", "b"]
    assert [row["status"] for row in exported] == ["Accepted", "Accepted"]


def test_export_original_rows_labels_written_once() -> None:
    dataset = load_dataset_bytes(encode(make_rows(1)), "rows.json")

    exported = export_original(dataset, [Review(labels=["z", "z", "y"])])

    assert json.loads(exported)[0]["labels"] == ["z", "y"]
    assert reload(dataset, exported).records[0].review.labels == ["z", "y"]


@pytest.mark.parametrize("field", ["note", "edited_output"])
def test_export_original_lone_surrogate_escaped(field: str) -> None:
    rows = make_rows(2)
    rows[0]["child_run"]["inputs"][0]["content"] = "é"
    dataset = load_dataset_bytes(json.dumps(rows, ensure_ascii=False).encode(), "rows.json")
    review = Review(**{field: "half \ud800 pair"})

    exported = export_original(dataset, [review, Review()])
    reloaded = reload(dataset, exported)

    assert b"\\ud800" in exported
    assert reloaded.problems == []
    if field == "note":
        assert reloaded.records[0].review.note == "half \ud800 pair"
    else:
        assert reloaded.records[0].output_text == "half \ud800 pair"


def test_export_normalized_lone_surrogate_escaped() -> None:
    dataset = load_dataset_bytes(encode(make_rows(1)), "rows.json")

    exported = export_normalized_jsonl(dataset, [Review(note="\udfff")])

    assert json.loads(exported)["review"]["note"] == "\udfff"


def test_export_pandas_column_covers_rejected() -> None:
    rows = make_rows(3)
    rows[1]["child_run"]["inputs"] = "oops"
    table = {column: {str(index): row[column] for index, row in enumerate(rows)} for column in rows[0]}
    dataset = load_dataset_bytes(encode(table), "table.json")

    exported = export_original(dataset, [Review(note="checked"), Review()])
    reloaded = load_dataset_bytes(exported, "table.json")

    assert json.loads(exported)["note"] == {"0": "checked", "1": "", "2": ""}
    assert [problem.field for problem in reloaded.problems] == ["child_run.inputs"]
    assert reloaded.records[0].review.note == "checked"


@pytest.mark.parametrize("relative_path", [path for path in REAL_PATHS if "langfree" not in path])
def test_export_original_status_not_added(shared_data_dir: Path, relative_path: str) -> None:
    path = shared_data_dir / relative_path
    dataset = load_dataset_file(path)
    reviews = [Review(status="Accepted", labels=["good"], note="fine") for _ in dataset.records]

    assert export_original(dataset, reviews) == path.read_bytes()


def swe_agent_ending_with_answer() -> dict[str, Any]:
    return {
        "environment": "main",
        "trajectory": [],
        "info": {"exit_status": "submitted"},
        "history": [
            {"role": "system", "content": "You fix bugs.", "agent": "main"},
            {"role": "user", "content": "Fix it.", "agent": "main"},
            {
                "role": "assistant",
                "content": "",
                "agent": "main",
                "tool_calls": [
                    {
                        "id": "call_a",
                        "type": "function",
                        "function": {"name": "submit", "arguments": "{}"},
                    }
                ],
            },
        ],
    }


CLAUDE_CODE_SESSION = (
    "\n".join(
        json.dumps(line)
        for line in [
            {
                "type": "user",
                "sessionId": "s1",
                "uuid": "u1",
                "message": {"role": "user", "content": "List files"},
            },
            {
                "type": "assistant",
                "sessionId": "s1",
                "uuid": "u2",
                "message": {
                    "id": "m1",
                    "role": "assistant",
                    "content": [{"type": "thinking", "thinking": "ls"}],
                },
            },
            {
                "type": "assistant",
                "sessionId": "s1",
                "uuid": "u3",
                "message": {
                    "id": "m1",
                    "role": "assistant",
                    "content": [{"type": "text", "text": "Running ls."}],
                },
            },
            {
                "type": "assistant",
                "sessionId": "s1",
                "uuid": "u4",
                "message": {
                    "id": "m1",
                    "role": "assistant",
                    "content": [
                        {"type": "tool_use", "id": "t1", "name": "Bash", "input": {"command": "ls"}}
                    ],
                },
            },
        ]
    )
    + "\n"
)

FIXTURES = [
    pytest.param(encode([ANTHROPIC_REQUEST]), "anthropic.json", id="anthropic"),
    pytest.param(encode(LANGFUSE_OBSERVATIONS), "langfuse.json", id="langfuse-list"),
    pytest.param(
        encode({"data": LANGFUSE_OBSERVATIONS, "meta": {}}), "langfuse.json", id="langfuse-api"
    ),
    pytest.param(encode(make_otlp_export()), "otlp.json", id="otel-otlp"),
    pytest.param(encode(make_structured_otlp_export()), "otlp.json", id="otel-structured"),
    pytest.param(encode(FLAT_SPANS), "flat.json", id="otel-flat"),
    pytest.param(encode(LANGCHAIN_RUNS), "runs.json", id="langsmith-langchain"),
    pytest.param(encode(swe_agent_ending_with_answer()), "task.traj", id="swe-agent"),
    pytest.param(CLAUDE_CODE_SESSION.encode(), "session.jsonl", id="claude-code"),
]


@pytest.mark.parametrize(("data", "name"), FIXTURES)
def test_export_original_fixture_round_trip(data: bytes, name: str) -> None:
    dataset = load_dataset_bytes(data, name)

    assert export_original(dataset, default_reviews(dataset)) == data
    assert_round_trip(dataset, editing_reviews(dataset))


def test_export_original_claude_code_edit_spans_lines() -> None:
    dataset = load_dataset_bytes(CLAUDE_CODE_SESSION.encode(), "session.jsonl")
    output = dataset.records[0].output

    lines = export_original(dataset, [Review(edited_output="Listing.")]).decode().splitlines()

    assert output is not None
    assert [part.kind for part in output.parts] == ["reasoning", "text", "tool_call"]
    assert json.loads(lines[2])["message"]["content"] == [{"type": "text", "text": "Listing."}]
    assert lines[3] == CLAUDE_CODE_SESSION.splitlines()[3]


def test_export_original_text_goes_before_tool_calls(shared_data_dir: Path) -> None:
    dataset = load_dataset_file(
        shared_data_dir / "foundry-toolcall/stock_toolcall_validation.jsonl"
    )
    reviews = [Review(edited_output="Let me look that up.")] + default_reviews(dataset)[1:]

    first_line = export_original(dataset, reviews).decode().splitlines()[0]
    output = json.loads(first_line)["messages"][-1]

    assert output["content"] == "Let me look that up."
    assert output["tool_calls"][0]["id"] == "call_1"


def test_list_unstored_edits_sharegpt_function_call() -> None:
    data = encode(
        [
            {
                "conversations": [
                    {"from": "human", "value": "Weather?"},
                    {"from": "function_call", "value": '{"name": "w", "arguments": {}}'},
                ]
            }
        ]
    )
    dataset = load_dataset_bytes(data, "glaive.json")
    reviews = [Review(edited_output="It rains.")]

    unstored = list_unstored_edits(dataset, reviews)

    assert [problem.location for problem in unstored] == ["record 0"]
    assert "function_call" in unstored[0].message
    assert export_original(dataset, reviews) == data


def test_export_original_pandas_columns_byte_equal(shared_data_dir: Path) -> None:
    pandas = pytest.importorskip("pandas")
    rows = json.loads(
        (shared_data_dir / "langfree-langsmith/sample_data.json").read_text(encoding="utf-8")
    )
    dataset = load_dataset_bytes(pandas.DataFrame(rows).to_json().encode(), "table.json")

    exported = export_original(
        dataset, [Review(status="Rejected", edited_output="a/b é")] + default_reviews(dataset)[1:]
    )
    rows[0]["status"] = "Rejected"
    rows[0]["child_run"]["output"]["content"] = "a/b é"

    assert exported == pandas.DataFrame(rows).to_json().encode()


def test_export_original_pandas_table_without_status() -> None:
    rows = [
        {"child_run": {"inputs": [], "output": {"role": "assistant", "content": str(index)}}}
        for index in range(3)
    ]
    table = {"child_run": {str(index): row["child_run"] for index, row in enumerate(rows)}}
    dataset = load_dataset_bytes(encode(table), "table.json")

    exported = json.loads(export_original(dataset, [Review(status="Accepted"), Review(), Review()]))

    assert exported["status"] == {"0": "Accepted", "1": "Pending", "2": "Pending"}


def test_export_original_keeps_rejected_records() -> None:
    data = b'{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Yo"}]}\n42\n{"messages": 1},\n'
    dataset = load_dataset_bytes(data, "mixed.jsonl")

    exported = export_original(dataset, [Review(edited_output="Hello")])

    assert exported.split(b"\n")[1:] == [b"42", b'{"messages": 1},', b""]


def test_export_original_review_count_checked(shared_data_dir: Path) -> None:
    dataset = load_dataset_file(shared_data_dir / "langfree-langsmith/sample_data.json")

    with pytest.raises(ValueError) as caught:
        export_original(dataset, [Review()])

    assert "got 1 reviews for 4 records" in str(caught.value)


def test_assign_paths_leaves_root_unchanged() -> None:
    root = {"rows": [{"a": 1}, {"a": 2}], "other": {"b": 3}}
    snapshot = json.loads(json.dumps(root))

    result = assign_paths(root, [(("rows", 0, "a"), 10), (("rows", 1, "a"), 20), (("new", "x"), 1)])

    assert root == snapshot
    assert result == {"rows": [{"a": 10}, {"a": 20}], "other": {"b": 3}, "new": {"x": 1}}
    assert result["other"] is root["other"]


# --- apply_review ----------------------------------------------------------------


def output_with(*parts: Any) -> Record:
    return Record(
        id="r", messages=[], output=Message(role="assistant", parts=list(parts)), metadata={}
    )


CALL = ToolCallPart(id="c", name="f", arguments="{}")

APPLY_CASES = [
    pytest.param(output_with(TextPart(text="old")), "new", [TextPart(text="new")], id="text"),
    pytest.param(
        output_with(TextPart(text="a"), CALL, TextPart(text="b")),
        "new",
        [TextPart(text="new"), CALL],
        id="two-texts",
    ),
    pytest.param(output_with(CALL), "new", [TextPart(text="new"), CALL], id="tool-call-only"),
    pytest.param(output_with(TextPart(text="old"), CALL), "", [CALL], id="cleared"),
    pytest.param(
        output_with(TextPart(text="same")), "same", [TextPart(text="same")], id="unchanged"
    ),
]


@pytest.mark.parametrize(("record", "edit", "expected"), APPLY_CASES)
def test_apply_review_replaces_text_parts(record: Record, edit: str, expected: list[Any]) -> None:
    reviewed = apply_review(record, Review(status="Accepted", edited_output=edit))

    assert reviewed.output is not None
    assert reviewed.output.parts == expected
    assert reviewed.review.status == "Accepted"
    assert record.review.status == "Pending"


def test_apply_review_without_output_adds_one() -> None:
    record = Record(id="r", messages=[], output=None, metadata={})

    reviewed = apply_review(record, Review(edited_output="Answer"))

    assert reviewed.output == Message(role="assistant", parts=[TextPart(text="Answer")])


# --- export_openai_finetune --------------------------------------------------------


def assert_valid_finetune_line(line: dict[str, Any]) -> None:
    """Check one line against the OpenAI chat fine-tuning format."""
    assert set(line) <= {"messages", "tools"}
    call_ids: set[str] = set()
    for message in line["messages"]:
        assert message["role"] in ("system", "user", "assistant", "tool")
        if message["role"] == "assistant":
            assert isinstance(message["content"], str) or message.get("tool_calls")
            for call in message.get("tool_calls", []):
                assert isinstance(call["id"], str)
                assert call["type"] == "function"
                assert isinstance(call["function"]["name"], str)
                assert isinstance(call["function"]["arguments"], str)
                call_ids.add(call["id"])
        elif message["role"] == "tool":
            assert message["tool_call_id"] in call_ids
            assert isinstance(message["content"], str)
        else:
            assert isinstance(message["content"], str)
    assert any(message["role"] == "assistant" for message in line["messages"])
    for tool in line.get("tools", []):
        assert tool["type"] == "function"
        assert isinstance(tool["function"]["name"], str)
        assert isinstance(tool["function"]["parameters"], dict)


@pytest.mark.parametrize("relative_path", REAL_PATHS)
def test_export_openai_finetune_real_lines_valid(shared_data_dir: Path, relative_path: str) -> None:
    dataset = load_dataset_file(shared_data_dir / relative_path)
    reviews = [Review(status="Accepted") for _ in dataset.records]

    lines = export_openai_finetune(dataset, reviews).decode("utf-8").splitlines()

    assert len(lines) == len(dataset.records)
    for line in lines:
        assert_valid_finetune_line(json.loads(line))


@pytest.mark.parametrize(("data", "name"), FIXTURES)
def test_export_openai_finetune_fixture_lines_valid(data: bytes, name: str) -> None:
    dataset = load_dataset_bytes(data, name)
    reviews = [Review(status="Accepted") for _ in dataset.records]

    for line in export_openai_finetune(dataset, reviews).decode("utf-8").splitlines():
        assert_valid_finetune_line(json.loads(line))


def test_export_openai_finetune_only_accepted_with_edit(shared_data_dir: Path) -> None:
    dataset = load_dataset_file(shared_data_dir / "llama-factory/glaive_toolcall_en_demo.json")
    reviews = [Review() for _ in dataset.records]
    reviews[0] = Review(status="Accepted", edited_output=EDIT_TEXT)
    reviews[1] = Review(status="Rejected", edited_output="ignored")

    lines = export_openai_finetune(dataset, reviews).decode("utf-8").splitlines()
    line = json.loads(lines[0])

    assert len(lines) == 1
    assert line["messages"][-1] == {"role": "assistant", "content": EDIT_TEXT}
    assert line["messages"][3]["tool_calls"][0]["function"]["name"] == "search_recipes"
    assert line["messages"][4]["role"] == "tool"
    assert line["messages"][4]["tool_call_id"] == line["messages"][3]["tool_calls"][0]["id"]
    assert line["tools"][0]["function"]["name"] == "search_recipes"


def test_export_openai_finetune_keeps_tool_calls_of_output(shared_data_dir: Path) -> None:
    dataset = load_dataset_file(
        shared_data_dir / "foundry-toolcall/stock_toolcall_validation.jsonl"
    )
    reviews = [
        Review(status="Accepted") if index == 0 else Review()
        for index in range(len(dataset.records))
    ]
    original = json.loads(
        (shared_data_dir / "foundry-toolcall/stock_toolcall_validation.jsonl")
        .read_text()
        .splitlines()[0]
    )

    line = json.loads(export_openai_finetune(dataset, reviews))

    assert line["messages"][-1]["tool_calls"] == original["messages"][-1]["tool_calls"]
    assert line["messages"][-1]["content"] is None
    assert line["tools"] == original["tools"]


# --- export_normalized_jsonl ---------------------------------------------------------


def test_export_normalized_jsonl_one_line_per_record(shared_data_dir: Path) -> None:
    dataset = load_dataset_file(shared_data_dir / "claude-code-log/edge_cases.jsonl")
    reviews = [
        Review(status="Rejected", note="broken"),
        Review(status="Accepted", edited_output=EDIT_TEXT),
    ]

    lines = [
        json.loads(line)
        for line in export_normalized_jsonl(dataset, reviews).decode("utf-8").splitlines()
    ]

    assert [line["id"] for line in lines] == ["edge_cases", "todowrite_session"]
    assert lines[0]["review"] == {
        "status": "Rejected",
        "edited_output": None,
        "labels": [],
        "note": "broken",
    }
    assert lines[1]["review"]["edited_output"] == EDIT_TEXT
    assert Record.model_validate(lines[1]).output == dataset.records[1].output
