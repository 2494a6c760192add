"""`python -m team`: upgrade, load, datasets, export, agreement, add-reviewer and their errors."""

from __future__ import annotations

import json

import pytest
from team_databases import make_chat_dataset

pytest.importorskip("sqlalchemy")

from team.__main__ import build_parser, main  # noqa: E402 - after the skip
from team.auth import TokenFile  # noqa: E402
from team.store import ReviewStore  # noqa: E402
from traces import Review  # noqa: E402


@pytest.fixture(autouse=True)
def no_database_variable(monkeypatch):
    monkeypatch.delenv("LLM_REVIEW_DATABASE_URL", raising=False)


@pytest.fixture
def data_file(tmp_path):
    path = tmp_path / "runs.jsonl"
    path.write_bytes(make_chat_dataset(4))
    return path


@pytest.fixture
def loaded(tmp_path, data_file, capsys) -> tuple[str, str]:
    database = str(tmp_path / "review.sqlite")
    assert main(["load", "--db", database, str(data_file)]) == 0
    dataset_id = capsys.readouterr().out.split()[0]
    return database, dataset_id


def test_cli_upgrade_then_nothing_to_do(tmp_path, capsys):
    database = str(tmp_path / "review.sqlite")
    assert main(["upgrade", "--db", database]) == 0
    assert "upgraded from version 0 to 1" in capsys.readouterr().out
    assert main(["upgrade", "--db", database]) == 0
    assert "nothing to do" in capsys.readouterr().out


def test_cli_load_prints_dataset(loaded, capsys):
    database, dataset_id = loaded
    assert len(dataset_id) == 64
    assert main(["datasets", "--db", database]) == 0
    listing = capsys.readouterr().out
    assert dataset_id in listing
    assert "runs.jsonl  openai-chat  4 records" in listing


def test_cli_load_default_database_next_to_file(data_file, capsys):
    assert main(["load", str(data_file)]) == 0
    assert (data_file.parent / "llm-review.sqlite").is_file()
    assert "4 records" in capsys.readouterr().out


def test_cli_load_database_from_environment(tmp_path, data_file, monkeypatch, capsys):
    database = tmp_path / "from-env.sqlite"
    monkeypatch.setenv("LLM_REVIEW_DATABASE_URL", f"sqlite:///{database}")
    assert main(["load", str(data_file)]) == 0
    assert database.is_file()


def test_cli_load_unreadable_file(tmp_path, capsys):
    assert main(["load", "--db", str(tmp_path / "r.sqlite"), str(tmp_path / "missing.json")]) == 1
    assert "cannot read" in capsys.readouterr().err


def test_cli_load_not_traces(tmp_path, capsys):
    path = tmp_path / "notes.txt"
    path.write_text("plain text")
    assert main(["load", "--db", str(tmp_path / "r.sqlite"), str(path)]) == 1
    assert "notes.txt" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("choice", "expected_lines"),
    [("original", 4), ("normalized", 4), ("openai", 1)],
)
def test_cli_export_formats(loaded, tmp_path, capsys, choice, expected_lines):
    database, dataset_id = loaded
    with ReviewStore(database) as store:
        store.save_review(dataset_id, 2, "alice", Review(status="Accepted"), expected_version=0)
    output = tmp_path / f"out.{choice}.jsonl"
    assert main(["export", "--db", database, "--dataset", dataset_id[:10], "--format", choice, "-o", str(output)]) == 0
    lines = output.read_text(encoding="utf-8").splitlines()
    assert len(lines) == expected_lines
    assert f"wrote {output}" in capsys.readouterr().out


def test_cli_export_normalized_has_reviewer(loaded, tmp_path):
    database, dataset_id = loaded
    with ReviewStore(database) as store:
        store.save_review(dataset_id, 1, "alice", Review(status="Rejected"), expected_version=0)
    output = tmp_path / "out.jsonl"
    main(["export", "--db", database, "--dataset", dataset_id, "--format", "normalized", "-o", str(output)])
    line = json.loads(output.read_text(encoding="utf-8").splitlines()[1])
    assert line["team_review"]["decisions"][0]["reviewer"] == "alice"


def test_cli_export_unknown_dataset(loaded, tmp_path, capsys):
    database, _ = loaded
    assert main(["export", "--db", database, "--dataset", "zz", "--format", "original", "-o", str(tmp_path / "x")]) == 1
    assert "no dataset id starts with 'zz'" in capsys.readouterr().err


def test_cli_export_without_tables(tmp_path, capsys):
    code = main(["export", "--db", str(tmp_path / "empty.sqlite"), "--dataset", "a", "--format", "original", "-o", str(tmp_path / "x")])
    assert code == 1
    assert "python -m team upgrade" in capsys.readouterr().err


def test_cli_without_database(capsys):
    assert main(["datasets"]) == 1
    assert "pass --db URL or set LLM_REVIEW_DATABASE_URL" in capsys.readouterr().err


def test_cli_unreachable_postgres(capsys):
    # Port 1 on the loopback interface has no server, so the connection is refused at once.
    assert main(["datasets", "--db", "postgresql+psycopg://nobody:secret@127.0.0.1:1/none"]) == 1
    error = capsys.readouterr().err
    assert "the database request failed" in error
    assert "secret" not in error


def test_cli_agreement(loaded, capsys):
    database, dataset_id = loaded
    with ReviewStore(database) as store:
        for reviewer, statuses in {"alice": ["Accepted", "Rejected"], "bob": ["Accepted", "Accepted"]}.items():
            for index, status in enumerate(statuses):
                store.save_review(dataset_id, index, reviewer, Review(status=status), expected_version=0, reviews_per_record=2)
    assert main(["agreement", "--db", database, "--dataset", dataset_id]) == 0
    output = capsys.readouterr().out
    # p_o = 1/2; alice accepts 1/2, bob always: p_e = 1/2*1 + 1/2*0 = 1/2, so kappa = 0.
    assert "alice / bob\t2\t0.500\t0.000" in output
    assert "mean pairwise kappa (Light's kappa): 0.000" in output


def test_cli_add_reviewer_prints_token_once(tmp_path, capsys):
    tokens = tmp_path / "reviewers.json"
    assert main(["add-reviewer", "--tokens", str(tokens), "alice"]) == 0
    token = capsys.readouterr().out.splitlines()[-1]
    assert TokenFile(tokens).reviewer_for(token) == "alice"
    assert token not in tokens.read_text()


def test_cli_add_reviewer_twice(tmp_path, capsys):
    tokens = tmp_path / "reviewers.json"
    main(["add-reviewer", "--tokens", str(tokens), "alice"])
    assert main(["add-reviewer", "--tokens", str(tokens), "alice"]) == 1
    assert "--replace" in capsys.readouterr().err


def test_cli_serve_needs_identity(capsys):
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["serve", "--db", "x.sqlite", "--dataset", "a"])
    assert exit_info.value.code == 2
    assert "one of the arguments --tokens --proxy-header is required" in capsys.readouterr().err


def test_cli_serve_defaults_to_loopback():
    arguments = build_parser().parse_args(["serve", "--dataset", "a", "--tokens", "t.json"])
    assert arguments.host == "127.0.0.1"
    assert arguments.port == 8000
    assert arguments.reviews_per_record == 1


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--port", "0"], "'0' is not a port number from 1 to 65535"),
        (["--port", "70000"], "'70000' is not a port number"),
        (["--reviews-per-record", "0"], "'0' is not a whole number of 1 or more"),
    ],
)
def test_cli_serve_rejects_bad_numbers(option, message, capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--dataset", "a", "--tokens", "t.json", *option])
    assert message in capsys.readouterr().err


def test_cli_serve_missing_token_file(loaded, tmp_path, capsys):
    database, dataset_id = loaded
    assert main(["serve", "--db", database, "--dataset", dataset_id, "--tokens", str(tmp_path / "none.json")]) == 1
    assert "does not exist" in capsys.readouterr().err
