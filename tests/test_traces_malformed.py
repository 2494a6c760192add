import codecs
import json
from typing import Any

import pytest

from traces import (
    FORMATS,
    DatasetFormatError,
    LoadedDataset,
    OtherPart,
    Review,
    TextPart,
    ToolCallPart,
    export_original,
    load_dataset_bytes,
)

GOOD = {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]}
GOOD_LINE = json.dumps(GOOD)


def jsonl(*lines: str, newline: str = "\n") -> bytes:
    return (newline.join(lines) + newline).encode("utf-8")


def encode(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


def row(**fields: Any) -> dict[str, Any]:
    value: dict[str, Any] = {
        "child_run": {
            "inputs": [{"role": "user", "content": "Q"}],
            "output": {"role": "assistant", "content": "A"},
            "run_id": "run-1",
        },
        "status": "Pending",
    }
    value.update(fields)
    return value


def chat_with(**message: Any) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": "Hi"}, message]}


# Each case: file bytes, file name, expected record count, and the expected
# problems as (location, field, fragment of the message).
MALFORMED_CASES = [
    pytest.param(jsonl(GOOD_LINE, "", "   ", GOOD_LINE), "a.jsonl", 2, [], id="blank-lines"),
    pytest.param(
        jsonl(GOOD_LINE + ",", GOOD_LINE),
        "a.jsonl",
        1,
        [("line 1", None, "not valid JSON: a trailing comma follows the value")],
        id="trailing-comma",
    ),
    pytest.param(codecs.BOM_UTF8 + jsonl(GOOD_LINE, GOOD_LINE), "a.jsonl", 2, [], id="bom"),
    pytest.param(jsonl(GOOD_LINE, GOOD_LINE, newline="\r\n"), "a.jsonl", 2, [], id="crlf"),
    pytest.param(
        jsonl(GOOD_LINE, "42", '"text"', "[1]", "null", GOOD_LINE),
        "a.jsonl",
        2,
        [
            ("line 2", None, 'found 42; expected an object with "messages"'),
            ("line 3", None, 'found "text"; expected an object with "messages"'),
            ("line 4", None, "found [1]; expected"),
            ("line 5", None, "found null; expected"),
        ],
        id="lines-not-objects",
    ),
    pytest.param(
        jsonl(GOOD_LINE, "{oops", '{"messages": ['),
        "a.jsonl",
        1,
        [
            (
                "line 2",
                None,
                "not valid JSON: Expecting property name enclosed in double quotes at column 2",
            ),
            (
                "line 3",
                None,
                "not valid JSON: Expecting value at column 15; expected one JSON object per line",
            ),
        ],
        id="invalid-json-lines",
    ),
    pytest.param(
        jsonl(GOOD_LINE, "42", GOOD_LINE),
        "no-suffix.json",
        2,
        [("line 2", None, "found 42")],
        id="jsonl-without-suffix",
    ),
    pytest.param(
        jsonl(
            GOOD_LINE, json.dumps({"messages": "Hi"}), json.dumps({"messages": [{"content": "Hi"}]})
        ),
        "a.jsonl",
        1,
        [
            ("line 2", "messages", 'found "Hi"; expected a list of messages'),
            ("line 3", "messages[0].role", 'missing; expected a string such as "user"'),
        ],
        id="bad-messages",
    ),
    pytest.param(
        jsonl(GOOD_LINE, json.dumps({"messages": [{"role": "user", "content": "Hi"}, 7]})),
        "a.jsonl",
        1,
        [("line 2", "messages[1]", 'found 7; expected a message object with "role" and "content"')],
        id="message-not-object",
    ),
    pytest.param(
        encode([GOOD, 7, GOOD]),
        "list.json",
        2,
        [("record 1", None, 'found 7; expected an object with "messages"')],
        id="list-item-not-object",
    ),
    pytest.param(
        encode(
            [
                row(),
                row(status="Done"),
                {"status": "Pending", "child_run": "x"},
                row(child_run={"inputs": [], "output": None}),
            ]
        ),
        "rows.json",
        1,
        [
            (
                "record 1",
                "status",
                'found "Done"; expected one of "Pending", "Accepted", "Rejected"',
            ),
            ("record 2", "child_run", 'found "x"; expected an object with "inputs"'),
            (
                "record 3",
                "child_run.output",
                'found null; expected a message object with "role" and "content"',
            ),
        ],
        id="rows",
    ),
    pytest.param(
        encode([row(note=3), row(labels="good"), row(labels=["good", 2]), row(note=None, labels=None)]),
        "rows.json",
        1,
        [
            ("record 0", "note", "found 3; expected a string"),
            ("record 1", "labels", 'found "good"; expected a list of strings'),
            ("record 2", "labels[1]", "found 2; expected a string"),
        ],
        id="rows-review-fields",
    ),
    pytest.param(
        encode(
            {
                "child_run": {"0": row()["child_run"], "1": row()["child_run"]},
                "status": {"0": "Pending"},
            }
        ),
        "table.json",
        1,
        [
            (
                "record 1",
                "status",
                'missing; expected a value for every index label of the first column "child_run"',
            )
        ],
        id="table-missing-cell",
    ),
    pytest.param(
        encode(
            [
                {"conversations": [{"from": "human", "value": "Hi"}, {"value": "Yo"}]},
                {"conversations": [{"from": "gpt", "value": "ok"}]},
            ]
        ),
        "sharegpt.json",
        1,
        [("record 0", "conversations[1].from", 'missing; expected one of "human", "gpt"')],
        id="sharegpt-turn-without-from",
    ),
    pytest.param(
        encode(
            {
                "post": [{"id": "r1", "run_type": "llm", "inputs": {"messages": []}}],
                "patch": [{"id": "r9", "outputs": {}}],
            }
        ),
        "ingest.json",
        1,
        [("patch record 0", "id", 'found "r9"; expected the id of a run in "post"')],
        id="patch-without-post",
    ),
    pytest.param(
        jsonl(
            json.dumps(
                {"type": "user", "sessionId": "s", "message": {"role": "user", "content": "Hi"}}
            ),
            json.dumps({"type": "user", "message": {"role": "user", "content": "Hi"}}),
        ),
        "session.jsonl",
        1,
        [("line 2", "sessionId", "missing; expected the session id as a string")],
        id="claude-code-without-session",
    ),
]


@pytest.mark.parametrize(("data", "name", "records", "problems"), MALFORMED_CASES)
def test_load_dataset_bytes_malformed(
    data: bytes, name: str, records: int, problems: list[tuple[str, str | None, str]]
) -> None:
    dataset = load_dataset_bytes(data, name)

    assert len(dataset.records) == records
    assert [(problem.location, problem.field) for problem in dataset.problems] == [
        (location, field) for location, field, _ in problems
    ]
    for problem, (_, _, fragment) in zip(dataset.problems, problems):
        assert fragment in problem.message


@pytest.mark.parametrize(("data", "name", "records", "problems"), MALFORMED_CASES)
def test_export_original_malformed_unchanged(
    data: bytes, name: str, records: int, problems: list[tuple[str, str | None, str]]
) -> None:
    dataset = load_dataset_bytes(data, name)

    assert export_original(dataset, [record.review for record in dataset.records]) == data


def test_export_original_crlf_and_bom_kept_after_edit() -> None:
    data = codecs.BOM_UTF8 + jsonl(GOOD_LINE, "", GOOD_LINE, newline="\r\n")
    dataset = load_dataset_bytes(data, "a.jsonl")

    exported = export_original(dataset, [Review(edited_output="Changed"), Review()])

    assert exported.startswith(codecs.BOM_UTF8)
    assert exported.count(b"\r\n") == 3
    assert exported.split(b"\r\n")[2] == GOOD_LINE.encode()
    assert b'"content": "Changed"' in exported


def test_export_original_crlf_json_byte_equal() -> None:
    def encode_crlf(value: Any) -> bytes:
        text = json.dumps(value, indent=2, ensure_ascii=False).replace("\n", "\r\n") + "\r\n"
        return codecs.BOM_UTF8 + text.encode("utf-8")

    # Non-ASCII text in the file shows that it was written without \u escapes.
    original = {
        "messages": [{"role": "user", "content": "Café?"}, {"role": "assistant", "content": "Oui"}]
    }
    dataset = load_dataset_bytes(encode_crlf([original, original]), "windows.json")
    edited = json.loads(json.dumps(original))
    edited["messages"][1]["content"] = "Changed é"

    exported = export_original(dataset, [Review(), Review(edited_output="Changed é")])

    assert exported == encode_crlf([original, edited])


# --- Content that tools have crashed on ------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        pytest.param({"content": None}, id="null"),
        pytest.param({"content": []}, id="empty-list"),
        pytest.param({}, id="missing"),
    ],
)
def test_load_tool_call_without_content(content: dict[str, Any]) -> None:
    call = {"id": "c1", "type": "function", "function": {"name": "lookup", "arguments": '{"q": 1}'}}
    dataset = load_dataset_bytes(
        encode([chat_with(role="assistant", tool_calls=[call], **content)]), "a.json"
    )
    output = dataset.records[0].output

    assert output is not None
    assert output.parts == [ToolCallPart(id="c1", name="lookup", arguments='{"q": 1}')]
    assert dataset.records[0].output_text == ""


ARGUMENT_CASES = [
    pytest.param("{not json", "{not json", False, id="invalid-json"),
    pytest.param('"{\\"q\\": 1}"', '"{\\"q\\": 1}"', False, id="string-literal"),
    pytest.param({"q": "é"}, '{"q": "é"}', True, id="object"),
    pytest.param(3, "3", True, id="number"),
]


@pytest.mark.parametrize(("arguments", "text", "parsed"), ARGUMENT_CASES)
def test_load_tool_call_arguments_kept_raw(arguments: Any, text: str, parsed: bool) -> None:
    call = {"id": "c1", "type": "function", "function": {"name": "lookup", "arguments": arguments}}
    dataset = load_dataset_bytes(
        encode([chat_with(role="assistant", content=None, tool_calls=[call])]), "a.json"
    )
    part = dataset.records[0].output.parts[0]

    assert isinstance(part, ToolCallPart)
    assert part.arguments == text
    assert part.parsed_arguments()[0] is parsed


CONTENT_CASES = [
    pytest.param(42, "content is a number", "42", id="number"),
    pytest.param({"answer": "yes"}, "content is an object", '{"answer": "yes"}', id="object"),
    pytest.param(True, "content is a boolean", "true", id="boolean"),
    pytest.param([7], "content item is a number", "7", id="list-of-number"),
    pytest.param(
        [{"kind": "x"}], "content block without a type", '{"kind": "x"}', id="block-without-type"
    ),
    pytest.param(
        [{"type": "video", "url": "v"}],
        'content block of type "video"',
        '{"type": "video", "url": "v"}',
        id="unknown-block",
    ),
]


@pytest.mark.parametrize(("content", "note", "raw"), CONTENT_CASES)
def test_load_odd_content_becomes_other_part(content: Any, note: str, raw: str) -> None:
    dataset = load_dataset_bytes(encode([chat_with(role="assistant", content=content)]), "a.json")
    part = dataset.records[0].output.parts[0]

    assert isinstance(part, OtherPart)
    assert part.note.startswith(note)
    assert part.raw == raw


# Several scripts, an "e" with a combining accent that must not become "é",
# an emoji sequence with joiners, and right-to-left text.
UNICODE_TEXT = "Résumé e\u0301 🦜🛠️ 漢字かな 한국어 مرحبا بالعالم ﷽ 👩\u200d💻 שלום"


@pytest.mark.parametrize("ensure_ascii", [False, True])
def test_load_unicode_text_exact(ensure_ascii: bool) -> None:
    value = [
        {
            "messages": [
                {"role": "user", "content": UNICODE_TEXT},
                {"role": "assistant", "content": UNICODE_TEXT},
            ]
        }
    ]
    data = json.dumps(value, ensure_ascii=ensure_ascii, indent=2).encode()
    dataset = load_dataset_bytes(data, "a.json")

    exported = export_original(dataset, [Review(edited_output=UNICODE_TEXT + "!")])

    assert dataset.records[0].messages[0].text == UNICODE_TEXT
    assert load_dataset_bytes(exported, "a.json").records[0].output_text == UNICODE_TEXT + "!"
    assert (
        exported
        == json.dumps(
            [
                {
                    "messages": [
                        value[0]["messages"][0],
                        {"role": "assistant", "content": UNICODE_TEXT + "!"},
                    ]
                }
            ],
            ensure_ascii=ensure_ascii,
            indent=2,
        ).encode()
    )


# --- Big records ---------------------------------------------------------------------------

BIG_IMAGE = "iVBORw0KGgo" + "A" * 5_000_000


def big_image_record() -> dict[str, Any]:
    return {
        "system": "Describe images.",
        "messages": [
            {
                "role": "user",
                "content": [
                    {
                        "type": "image",
                        "source": {"type": "base64", "media_type": "image/png", "data": BIG_IMAGE},
                    },
                    {"type": "text", "text": "What is this?"},
                ],
            },
            {"role": "assistant", "content": "A" * 200_000},
        ],
    }


def test_load_big_image_block_kept_short() -> None:
    dataset = load_dataset_bytes(encode([big_image_record()]), "big.json")
    image, text = dataset.records[0].messages[1].parts

    assert isinstance(image, OtherPart)
    assert image.note.startswith("image (image/png, base64, about 3.8 MB decoded)")
    assert "5.0 MB" in image.note
    assert len(image.raw) < 300
    assert text == TextPart(text="What is this?")


def test_load_long_message_not_cut() -> None:
    dataset = load_dataset_bytes(encode([big_image_record()]), "big.json")

    assert dataset.records[0].output_text == "A" * 200_000


def test_export_original_big_record_kept(tmp_path: Any) -> None:
    data = encode([big_image_record(), GOOD])
    dataset: LoadedDataset = load_dataset_bytes(data, "big.json")

    exported = export_original(dataset, [Review(), Review(edited_output="Hi there")])
    rows = json.loads(exported)

    assert rows[0] == big_image_record()
    assert rows[1]["messages"][1]["content"] == "Hi there"


def test_load_data_url_image_part() -> None:
    url = "data:image/jpeg;base64," + "B" * 2_000_000
    message = {
        "role": "user",
        "content": [
            {"type": "image_url", "image_url": {"url": url}},
            {"type": "text", "text": "See?"},
        ],
    }
    dataset = load_dataset_bytes(
        encode([{"messages": [message, {"role": "assistant", "content": "Yes"}]}]), "a.json"
    )
    image = dataset.records[0].messages[0].parts[0]

    assert isinstance(image, OtherPart)
    assert image.note.startswith("image (data URL image/jpeg;base64, 2.0 MB)")
    assert len(image.raw) < 300


# --- Files that cannot be used -------------------------------------------------------------


FILE_ERROR_CASES = [
    pytest.param(b"", "empty.json", ["Cannot read empty.json: the file is empty"], id="empty"),
    pytest.param(b"  \n\n", "blank.jsonl", ["the file is empty"], id="only-blank-lines"),
    pytest.param(
        b'[{"a": "caf\xe9"}]',
        "latin1.json",
        ["not UTF-8 text: invalid byte 0xe9 at offset 11", "save the file again as UTF-8"],
        id="latin-1",
    ),
    pytest.param(
        b'[{"a": 1},]',
        "comma.json",
        ["not valid JSON: Expecting value at line 1, column 11"],
        id="json-trailing-comma",
    ),
    pytest.param(b"{oops\n[1\n", "bad.jsonl", ["not valid JSON"], id="no-valid-line"),
    pytest.param(
        b"42",
        "number.json",
        ["the JSON value 42", "matches no supported trace format"],
        id="top-level-number",
    ),
    pytest.param(b"[]", "empty-list.json", ["a JSON list of 0 items"], id="empty-list"),
    pytest.param(b"{}", "empty-object.json", ["an empty JSON object"], id="empty-object"),
    pytest.param(
        b'[{"question": "Q", "answer": "A"}]',
        "qa.json",
        ['a JSON list of 1 item whose first object has the fields "question", "answer"'],
        id="unknown-shape",
    ),
    pytest.param(
        encode({"post": [{"id": "c", "run_type": "chain", "inputs": {}, "outputs": {}}]}),
        "chains.json",
        [
            "no record could be read as langsmith-runs",
            "skipped, as they hold no model call: 1 chain run",
        ],
        id="only-chain-runs",
    ),
]


@pytest.mark.parametrize(("data", "name", "fragments"), FILE_ERROR_CASES)
def test_load_dataset_bytes_file_errors(data: bytes, name: str, fragments: list[str]) -> None:
    with pytest.raises(DatasetFormatError) as caught:
        load_dataset_bytes(data, name)

    for fragment in fragments:
        assert fragment in str(caught.value)
    assert caught.value.name == name


def test_dataset_format_error_lists_formats_tried() -> None:
    with pytest.raises(DatasetFormatError) as caught:
        load_dataset_bytes(b'[{"question": "Q", "answer": "A"}]', "qa.json")
    message = str(caught.value)

    assert list(caught.value.tried) == list(FORMATS)
    for format_name in FORMATS:
        assert f"\n  {format_name}: no " in message
    assert 'openai-chat: no object with a "messages" list' in message
    assert 'langsmith-rows: no object with a "child_run" field' in message


def test_dataset_format_error_forced_format_lists_problems() -> None:
    data = jsonl("42", json.dumps({"messages": "x"}))

    with pytest.raises(DatasetFormatError) as caught:
        load_dataset_bytes(data, "bad.jsonl", format="openai-chat")

    assert "no record could be read as openai-chat" in str(caught.value)
    assert "line 1: found 42" in str(caught.value)
    assert [problem.location for problem in caught.value.problems] == ["line 1", "line 2"]


def test_load_dataset_file_missing(tmp_path: Any) -> None:
    from traces import load_dataset_file

    path = tmp_path / "absent.jsonl"
    with pytest.raises(DatasetFormatError) as caught:
        load_dataset_file(path)

    assert str(path) in str(caught.value)
    assert "failed to read the file" in str(caught.value)
