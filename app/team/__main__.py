"""Command line of team mode: `python -m team COMMAND` with app/ on the module path.

    PYTHONPATH=app .venv/bin/python -m team upgrade --db review.sqlite
    PYTHONPATH=app .venv/bin/python -m team load --db review.sqlite runs.json
    PYTHONPATH=app .venv/bin/python -m team add-reviewer --tokens reviewers.json alice
    PYTHONPATH=app .venv/bin/python -m team serve --db review.sqlite --dataset 3f2a --tokens reviewers.json
    PYTHONPATH=app .venv/bin/python -m team export --db review.sqlite --dataset 3f2a --format normalized -o out.jsonl
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from team.app_mode import DATABASE_URL_VARIABLE
from team.exports import CONSENSUS_RULES, EXPORT_CHOICES
from team.schema import SchemaError, describe_database_url
from team.store import DEFAULT_RESERVATION_TTL, ReviewStore, StoreError
from traces import FORMATS, DatasetFormatError

log = logging.getLogger("team")

DB_HELP = (
    "database: a SQLAlchemy URL such as postgresql+psycopg://user:password@127.0.0.1/llm_review, "
    f"or a file path for SQLite (default: ${DATABASE_URL_VARIABLE})"
)


def positive_integer(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of 1 or more")
    return int(text)


def port_number(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number from 1 to 65535")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m team",
        description="Team review: store every reviewer's decisions in SQLite or PostgreSQL and serve the review app.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    upgrade = commands.add_parser("upgrade", help="create the tables or bring them to the latest schema version")
    upgrade.add_argument("--db", help=DB_HELP)

    load = commands.add_parser("load", help="store a trace file (any format the app reads) and print its dataset id")
    load.add_argument("--db", help=DB_HELP + "; for load, else llm-review.sqlite next to FILE")
    load.add_argument("file", type=Path, metavar="FILE", help="JSON or JSONL trace file")
    load.add_argument("--format", choices=FORMATS, help="trace format, when detection picks the wrong one")

    datasets = commands.add_parser("datasets", help="list the stored datasets")
    datasets.add_argument("--db", help=DB_HELP)

    export = commands.add_parser("export", help="write the curated dataset with the team's decisions")
    export.add_argument("--db", help=DB_HELP)
    export.add_argument("--dataset", required=True, metavar="ID", help="dataset id, or a unique start of it")
    export.add_argument(
        "--format",
        required=True,
        choices=EXPORT_CHOICES,
        help="original: the file's own format; openai: fine-tuning JSONL of accepted records; "
        "normalized: JSONL with every reviewer's decision, reviewer and time",
    )
    export.add_argument("-o", "--output", required=True, type=Path, metavar="FILE", help="file to write")
    export.add_argument(
        "--rule",
        choices=CONSENSUS_RULES,
        default="latest",
        help="which review a record is exported with: the newest save (latest, default) or the "
        "decision most reviewers made (majority, for several reviews per record)",
    )

    agreement = commands.add_parser("agreement", help="print agreement between reviewers (Cohen's kappa per pair)")
    agreement.add_argument("--db", help=DB_HELP)
    agreement.add_argument("--dataset", required=True, metavar="ID", help="dataset id, or a unique start of it")

    add_reviewer = commands.add_parser(
        "add-reviewer", help="add a reviewer to a token file and print their sign-in token once"
    )
    add_reviewer.add_argument("--tokens", required=True, type=Path, metavar="FILE", help="token file (created if missing)")
    add_reviewer.add_argument("name", help="reviewer name, recorded with each of their decisions")
    add_reviewer.add_argument("--replace", action="store_true", help="issue a new token for a reviewer who exists")

    serve = commands.add_parser("serve", help="serve the review app with decisions in the database")
    serve.add_argument("--db", help=DB_HELP)
    serve.add_argument("--dataset", required=True, metavar="ID", help="dataset id, or a unique start of it")
    serve.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1: this machine only). 0.0.0.0 exposes the app, "
        "its data and the sign-in page to every network this machine is on; put it behind TLS",
    )
    serve.add_argument("--port", type=port_number, default=8000, help="TCP port (default 8000)")
    identity = serve.add_mutually_exclusive_group(required=True)
    identity.add_argument("--tokens", type=Path, metavar="FILE", help="token file from add-reviewer: reviewers sign in with their token")
    identity.add_argument(
        "--proxy-header",
        metavar="NAME",
        help="take the reviewer's name from this request header, set by a trusted reverse proxy "
        "that signs reviewers in; only safe when nothing but that proxy can reach the port",
    )
    serve.add_argument(
        "--reviews-per-record",
        type=positive_integer,
        default=1,
        metavar="N",
        help="distinct reviewers who decide each record (default 1); above 1 they judge independently",
    )
    serve.add_argument(
        "--reservation-minutes",
        type=positive_integer,
        default=int(DEFAULT_RESERVATION_TTL.total_seconds() // 60),
        metavar="MINUTES",
        help="how long a record stays reserved for its reviewer without a save (default %(default)s)",
    )
    return parser


def resolve_database(value: str | None, *, fallback: str | None = None) -> str:
    url = value or os.environ.get(DATABASE_URL_VARIABLE) or fallback
    if not url:
        raise StoreError(f"no database given; pass --db URL or set {DATABASE_URL_VARIABLE}")
    return url


def run_upgrade(arguments: argparse.Namespace) -> int:
    with ReviewStore(resolve_database(arguments.db)) as store:
        old, new = store.upgrade()
        where = describe_database_url(store.url)
    if old == new:
        print(f"{where}: schema is at version {new}; nothing to do")
    else:
        print(f"{where}: schema upgraded from version {old} to {new}")
    return 0


def run_load(arguments: argparse.Namespace) -> int:
    fallback = str(arguments.file.resolve().parent / "llm-review.sqlite")
    with ReviewStore(resolve_database(arguments.db, fallback=fallback)) as store:
        if store.schema_version() == 0:
            # A new, empty database: create the tables instead of asking for a separate step.
            store.upgrade()
        store.check_schema()
        try:
            data = arguments.file.read_bytes()
        except OSError as error:
            raise StoreError(f"cannot read {arguments.file}: {error.strerror or error}; check the path") from error
        info = store.add_dataset(data, arguments.file.name, format=arguments.format)
        where = describe_database_url(store.url)
    print(f"{info.id}  {info.name}  {info.format}  {info.record_count} records  in {where}")
    return 0


def run_datasets(arguments: argparse.Namespace) -> int:
    with ReviewStore(resolve_database(arguments.db)) as store:
        store.check_schema()
        for info in store.list_datasets():
            print(f"{info.id}  {info.name}  {info.format}  {info.record_count} records  loaded {info.loaded_at:%Y-%m-%d %H:%M} UTC")
    return 0


def run_export(arguments: argparse.Namespace) -> int:
    with ReviewStore(resolve_database(arguments.db)) as store:
        store.check_schema()
        dataset_id = store.resolve_dataset_id(arguments.dataset)
        _, data = store.export(dataset_id, arguments.format, rule=arguments.rule)
    arguments.output.write_bytes(data)
    print(f"wrote {arguments.output} ({len(data)} bytes, {arguments.format}, rule {arguments.rule})")
    return 0


def format_share(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def run_agreement(arguments: argparse.Namespace) -> int:
    with ReviewStore(resolve_database(arguments.db)) as store:
        store.check_schema()
        report = store.agreement(store.resolve_dataset_id(arguments.dataset))
    print("reviewer pair\trecords\tobserved\tkappa")
    for pair in report.pairs:
        print(f"{pair.first} / {pair.second}\t{pair.records}\t{format_share(pair.observed)}\t{format_share(pair.kappa)}")
    multi = [record for record in report.records if record.accepted + record.rejected >= 2]
    print(f"records with two or more decisions: {len(multi)}")
    print(f"observed agreement over all pairs: {format_share(report.observed)}")
    print(f"mean pairwise kappa (Light's kappa): {format_share(report.mean_kappa)}")
    return 0


def run_add_reviewer(arguments: argparse.Namespace) -> int:
    from team.auth import add_reviewer

    token = add_reviewer(arguments.tokens, arguments.name, replace=arguments.replace)
    print(f"Added reviewer {arguments.name!r} to {arguments.tokens}. Their token, shown only this once:")
    print(token)
    return 0


def run_serve(arguments: argparse.Namespace) -> int:
    from team.serve import build_server_app, run_server

    with ReviewStore(resolve_database(arguments.db)) as store:
        database = store.url
        store.check_schema()
        dataset_id = store.resolve_dataset_id(arguments.dataset)
        info = store.dataset_info(dataset_id)
    if arguments.tokens is not None and not arguments.tokens.is_file():
        raise StoreError(f"token file {arguments.tokens} does not exist; create it with `python -m team add-reviewer`")

    app = build_server_app(
        database,
        dataset_id,
        tokens_path=arguments.tokens,
        proxy_header=arguments.proxy_header,
        reviews_per_record=arguments.reviews_per_record,
        reservation_minutes=arguments.reservation_minutes,
    )
    log.info(
        "Serving %s (%d records, %d review(s) per record) from %s on http://%s:%d/",
        info.name,
        info.record_count,
        arguments.reviews_per_record,
        describe_database_url(database),
        arguments.host,
        arguments.port,
    )
    run_server(app, host=arguments.host, port=arguments.port)
    return 0


COMMANDS = {
    "upgrade": run_upgrade,
    "load": run_load,
    "datasets": run_datasets,
    "export": run_export,
    "agreement": run_agreement,
    "add-reviewer": run_add_reviewer,
    "serve": run_serve,
}


def main(argv: list[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return COMMANDS[arguments.command](arguments)
    except (StoreError, SchemaError, DatasetFormatError, ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except SQLAlchemyError as error:
        # The driver's own message (such as "connection refused") without SQLAlchemy's long tail.
        reason = getattr(error, "orig", None) or error
        print(f"error: the database request failed: {reason}; check --db and that the database is running", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
