"""LLM Data Review: step through LLM traces, correct the final output, accept or reject each one.

The same file runs under `shiny run app/app.py` and inside the browser on Pyodide. Browser storage
(IndexedDB), file reading, keyboard shortcuts and downloads are handled by www/review.js in the page.
The server drives that script with custom messages and reads its replies as inputs.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import gc
import json
import os
import sys
import time
from collections import OrderedDict
from pathlib import Path

from chat_view import render_conversation, render_output_calls
from htmltools import tags
from progress_backup import make_progress_backup, merge_progress_backup
from review_state import STATUSES, ReviewState, StoredStateError
from review_view import (
    EXPORT_CHOICES,
    View,
    describe_progress,
    describe_rate,
    export_file,
    render_counts,
    render_diff,
    render_status_box,
)
from shiny import App, reactive, render, req, ui
from traces import DatasetFormatError, LoadedDataset, list_unstored_edits, load_dataset_bytes, load_dataset_file

APP_DIR = Path(__file__).resolve().parent

# The build places the dataset in datasets/ and its settings in review_settings.json; a checkout
# without them falls back to the sample data and no preset labels.
DATASETS_DIR = APP_DIR / "datasets"
SETTINGS_PATH = APP_DIR / "review_settings.json"
SAMPLE_DATASET = APP_DIR.parent / "sample_data" / "langsmith_runs.json"


def find_dataset_path() -> Path:
    """Return the dataset to review: $LLM_REVIEW_DATA, the one file in datasets/, or the sample."""
    configured = os.environ.get("LLM_REVIEW_DATA")
    if configured:
        return Path(configured)

    if DATASETS_DIR.is_dir():
        candidates = sorted(path for path in DATASETS_DIR.iterdir() if path.is_file())
        if len(candidates) == 1:
            return candidates[0]
        if candidates:
            names = ", ".join(path.name for path in candidates)
            raise RuntimeError(f"{DATASETS_DIR} must hold exactly one dataset file, found: {names}")

    return SAMPLE_DATASET


def read_settings() -> dict:
    """Return the build's settings: `format` (a reader name or null) and preset `labels`."""
    if SETTINGS_PATH.is_file():
        return json.loads(SETTINGS_PATH.read_text(encoding="utf-8"))
    return {"format": os.environ.get("LLM_REVIEW_FORMAT") or None, "labels": []}


def start_review(dataset: LoadedDataset) -> ReviewState:
    return ReviewState.start(
        [record.review for record in dataset.records],
        [record.output_text for record in dataset.records],
    )


# Rendered conversations kept per session: the current record, the next one and a few visited.
CACHED_CONVERSATIONS = 8

SETTINGS = read_settings()
PRESET_LABELS: list[str] = list(SETTINGS.get("labels") or [])

# Team mode (docs/team-mode.md): with LLM_REVIEW_DATABASE_URL set, the dataset and every decision
# live in a shared database instead of the browser. The team package needs SQLAlchemy, which the
# browser build does not ship, so it is imported only then.
TEAM = None
if os.environ.get("LLM_REVIEW_DATABASE_URL"):
    from team.app_mode import TeamMode, describe_conflict

    TEAM = TeamMode.open(os.environ)


@functools.cache
def load_built_in_dataset() -> LoadedDataset:
    """Return the dataset the app starts with, read on first use.

    The page itself does not depend on the data, so rendering it at build time skips the read.
    """
    if TEAM is not None:
        return TEAM.dataset
    loaded = load_dataset_file(find_dataset_path(), format=SETTINGS.get("format"))
    exclude_from_garbage_collection()
    return loaded


def exclude_from_garbage_collection() -> None:
    """Move every object alive now, the loaded records among them, out of the cycle collector's reach.

    A full collection walks every tracked object, so with a large dataset a click that starts one
    waits for a walk over all records. The records contain no reference cycles, so reference
    counting still frees them when another dataset replaces them.
    """
    gc.collect()
    gc.freeze()


app_ui = ui.page_fluid(
    # An empty icon keeps the browser from requesting /favicon.ico, which no server here has.
    ui.head_content(
        # Defence in depth next to the escaping in chat_view: no image, media, frame or plugin from
        # another origin may load, whatever ends up in the page.
        tags.meta(
            http_equiv="Content-Security-Policy",
            content="img-src 'self' data: blob:; media-src 'self'; frame-src 'none'; object-src 'none'",
        ),
        tags.link(rel="icon", href="data:,"),
        tags.meta(name="viewport", content="width=device-width, initial-scale=1"),
    ),
    ui.include_css(APP_DIR / "www" / "review.css"),
    ui.include_js(APP_DIR / "www" / "review.js"),
    tags.header(
        tags.h1("LLM Data Review", class_="h4 mb-0"),
        ui.output_text("dataset_name", inline=True),
        ui.output_text("progress", inline=True),
        tags.button(
            "Shortcuts (?)",
            type="button",
            class_="btn btn-link btn-sm",
            id="show-shortcuts",
            aria_haspopup="dialog",
        ),
        class_="review-header",
    ),
    ui.output_ui("storage_notice"),
    ui.output_ui("team_panel") if TEAM is not None else None,
    ui.output_ui("dataset_problems"),
    tags.div(
        ui.input_select(
            "filter_status",
            "Status",
            choices={"": "All", **{status: status for status in STATUSES}},
            width="9rem",
        ),
        ui.input_select("filter_label", "Label", choices={"": "All"}, width="11rem"),
        ui.input_text("search", "Search", placeholder="Text in messages or output", width="16rem"),
        tags.div(
            ui.input_numeric("jump_to", "Record #", value=None, min=1, width="7rem"),
            ui.input_action_button("jump", "Go", class_="btn-outline-secondary btn-sm"),
            class_="jump-group",
        ),
        ui.input_action_button("next_pending", "Next pending", class_="btn-outline-secondary btn-sm"),
        class_="filter-bar",
        role="search",
    ),
    ui.layout_columns(
        tags.section(
            tags.h2("Input conversation", class_="h6 text-muted"),
            ui.output_ui("conversation"),
            class_="conversation-column",
            aria_label="Input conversation",
        ),
        tags.section(
            ui.output_ui("status_box"),
            ui.output_ui("done_message"),
            ui.output_ui("output_calls"),
            ui.input_text_area(
                "output_text",
                "LLM Output (Editable)",
                rows=12,
                width="100%",
                resize="vertical",
            ),
            tags.div(
                ui.input_action_button("accept", "Accept", class_="btn-success", title="Accept (a, or Ctrl+Enter in the editor)"),
                ui.input_action_button("reject", "Reject", class_="btn-danger", title="Reject (r)"),
                ui.input_action_button("back", "Back", class_="btn-outline-secondary", title="Back (k)"),
                ui.input_action_button("next", "Next", class_="btn-outline-secondary", title="Next (j)"),
                ui.input_action_button("reset", "Reset", class_="btn-outline-warning", title="Reset (x)"),
                ui.input_action_button("undo", "Undo", class_="btn-outline-secondary", title="Undo (u)"),
                class_="review-buttons",
            ),
            # Below the buttons, so that the diff appearing while typing never moves them.
            ui.output_ui("output_diff"),
            ui.input_text_area("note", "Note", rows=2, width="100%", placeholder="Why this decision?"),
            ui.input_checkbox_group("labels", "Labels", choices=PRESET_LABELS, inline=True),
            tags.div(
                ui.input_text("new_label", None, placeholder="New label", width="12rem"),
                ui.input_action_button("add_label", "Add label", class_="btn-outline-secondary btn-sm"),
                class_="add-label",
            ),
            tags.h2("Progress", class_="h6 text-muted mt-3"),
            ui.output_ui("counts"),
            ui.output_text("review_rate"),
            tags.div(
                ui.input_select("export_format", "Export", choices=EXPORT_CHOICES, width="100%"),
                ui.input_action_button("download", "Download curated data", class_="btn-primary"),
                class_="export-group",
            ),
            tags.div(
                tags.div("Progress backup", class_="form-label"),
                ui.input_action_button("backup_progress", "Download progress", class_="btn-outline-secondary btn-sm me-2"),
                tags.button("Load progress…", type="button", id="load-progress", class_="btn btn-outline-secondary btn-sm"),
                tags.p(
                    "Decisions, edits, notes and labels as a file, to move them to another browser.",
                    class_="form-text",
                ),
                class_="backup-group",
            ),
            # In team mode the server sets the dataset for everyone.
            None
            if TEAM is not None
            else tags.div(
                tags.div("Review another file", class_="form-label"),
                # A plain button: Shiny would bind an <input type="file"> as an upload, which needs
                # an HTTP server. review.js opens the file chooser and reads the file in the page.
                tags.button("Open a JSON or JSONL file…", type="button", id="open-file", class_="btn btn-outline-secondary btn-sm"),
                tags.p(
                    "Or drop a JSON or JSONL file anywhere on the page. It is read in this browser and never uploaded.",
                    class_="form-text",
                ),
                tags.div(id="open-file-status", role="status", aria_live="polite"),
                class_="open-file-group",
            ),
            class_="review-column",
            aria_label="Review",
        ),
        col_widths={"sm": 12, "lg": (7, 5)},
    ),
    tags.div(
        tags.div(
            tags.h2("Keyboard shortcuts", class_="h5"),
            tags.table(
                tags.tbody(
                    *(
                        tags.tr(tags.td(tags.kbd(key)), tags.td(action))
                        for key, action in (
                            ("a", "Accept"),
                            ("Ctrl+Enter", "Accept, also while editing the output"),
                            ("r", "Reject"),
                            ("j or →", "Next"),
                            ("k or ←", "Back"),
                            ("x", "Reset"),
                            ("u", "Undo"),
                            ("p", "Next pending"),
                            ("e", "Edit the output"),
                            ("n", "Edit the note"),
                            ("/", "Search"),
                            ("?", "Show or hide this help"),
                            ("Esc", "Leave a text field, close this help"),
                        )
                    )
                ),
                class_="table table-sm",
            ),
            tags.button("Close", type="button", class_="btn btn-secondary btn-sm", id="close-shortcuts"),
            class_="shortcut-panel",
        ),
        id="shortcut-help",
        role="dialog",
        aria_modal="true",
        aria_label="Keyboard shortcuts",
        hidden="",
    ),
    title="LLM Data Review",
)


def server(input, output, session):
    built_in = load_built_in_dataset()
    dataset = reactive.value(built_in)
    review = reactive.value(start_review(built_in))
    started = time.monotonic()
    decisions = reactive.value(0)

    # Nothing is shown or changed until the page has returned the stored progress, so a decision
    # made in the first second can't be overwritten by the restore.
    storage_ready = reactive.value(False)
    storage_available = reactive.value(True)
    storage_problem = reactive.value("")
    # Stored progress that exists but cannot be read is never overwritten silently: the reviewer
    # downloads it as it is or starts fresh, and until then nothing is saved over it.
    unreadable_store = reactive.value("")

    # Decisions wait here until the page confirms the IndexedDB write: a state is shown only once it
    # is stored. `latest` is what the next action builds on.
    pending_states: dict[int, ReviewState] = {}
    # The records each pending save writes, so that a change from another tab read before that
    # write lands is not applied over it.
    pending_records: dict[int, list[int]] = {}
    sequence = {"last": 0}

    # What the editor, note and labels were last set to: the record (dataset and position), its
    # status and output, and the label choices. `synced` turns true once the page sends the editor's
    # text after that: until then input.output_text may hold the text of the record before.
    editor = {"originals": None, "position": -1, "output": None, "choices": None, "synced": False}

    # Team mode: the database replaces IndexedDB, as the reviewer that sign-in put in the scope.
    team = TEAM.open_session(session.http_conn.scope) if TEAM is not None else None
    # The records another reviewer saved first at this reviewer's last save.
    team_conflicts = reactive.value(())

    def show_team_outcome(outcome) -> None:
        if outcome.conflicts:
            team_conflicts.set(outcome.conflicts)
        if outcome.queue_empty:
            ui.notification_show(
                "No other record is open for you: the rest are decided or held by other reviewers.",
                duration=4,
                type="message",
            )
        review.set(outcome.state)

    async def commit_to_team(state: ReviewState, changed: list[int], *, decision: bool) -> None:
        # The database call blocks, so it runs in a thread while the server keeps serving.
        outcome = await asyncio.to_thread(team.commit, state, changed, decision=decision)
        if decision and not outcome.conflicts:
            team_conflicts.set(())
        show_team_outcome(outcome)

    async def start_team_review() -> None:
        if team.problem:
            return
        with reactive.isolate():
            state = review.get()
        outcome = await asyncio.to_thread(team.start, state)
        show_team_outcome(outcome)
        storage_ready.set(True)

    if team is not None:
        # A closed page gives its record back to the queue at once instead of after the TTL.
        session.on_ended(team.release)

    def latest() -> ReviewState:
        if pending_states:
            return pending_states[max(pending_states)]
        return review.get()

    async def commit(state: ReviewState, changed: list[int], *, decision: bool = False) -> None:
        if decision:
            decisions.set(decisions.get() + 1)
        if team is not None:
            await commit_to_team(state, changed, decision=decision)
            return
        if not storage_available.get() or unreadable_store.get():
            # `state` builds on any pending one, whose reply may never come or comes after this.
            pending_states.clear()
            pending_records.clear()
            review.set(state)
            return

        sequence["last"] += 1
        pending_states[sequence["last"]] = state
        pending_records[sequence["last"]] = list(changed)
        await session.send_custom_message(
            "review-storage-save",
            {
                "dataset": dataset.get().dataset_id,
                "sequence": sequence["last"],
                **state.to_storage(changed),
            },
        )

    def apply_confirmed(number: int) -> None:
        """Show the newest state the page has confirmed, dropping older pending ones."""
        if number not in pending_states:
            return
        state = pending_states[number]
        for key in [key for key in pending_states if key <= number]:
            del pending_states[key]
            pending_records.pop(key, None)
        review.set(state)

    async def load_dataset_into_session(loaded: LoadedDataset) -> None:
        if team is not None:
            ui.notification_show("In team review the server sets the dataset for everyone.", duration=5, type="warning")
            return
        pending_states.clear()
        pending_records.clear()
        storage_ready.set(False)
        dataset.set(loaded)
        review.set(start_review(loaded))
        await session.send_custom_message(
            "review-storage-load", {"dataset": loaded.dataset_id, "total": len(loaded.records)}
        )

    @reactive.effect
    async def request_stored_review():
        with reactive.isolate():
            current = dataset.get()
        if team is not None:
            await start_team_review()
            return
        await session.send_custom_message(
            "review-storage-load", {"dataset": current.dataset_id, "total": len(current.records)}
        )

    @reactive.effect
    @reactive.event(input.stored_review)
    def restore_stored_review():
        reply = input.stored_review()
        if reply.get("dataset") != dataset.get().dataset_id:
            return

        if reply.get("error"):
            storage_available.set(False)
            storage_problem.set(f"Progress is not being saved in this browser: {reply['error']}.")
        elif reply.get("state") is not None:
            try:
                review.set(review.get().restore(reply["state"]))
            except StoredStateError as error:
                unreadable_store.set(f"Saved progress for this dataset could not be read: {error}.")
        storage_ready.set(True)

    @reactive.effect
    @reactive.event(input.storage_ack)
    def confirm_stored():
        apply_confirmed(input.storage_ack()["sequence"])

    @reactive.effect
    @reactive.event(input.storage_error)
    def report_storage_error():
        problem = input.storage_error()
        storage_available.set(False)
        storage_problem.set(f"Progress is not being saved in this browser: {problem['message']}.")
        # The decision still counts for this page; it can be kept with Download.
        apply_confirmed(problem["sequence"])

    @reactive.effect
    @reactive.event(input.remote_records)
    def apply_remote_records():
        # Another tab on the same dataset stored these records; show them here too. The page read
        # them after this tab's earlier writes, so a save still pending here is stored after them:
        # its own records are kept in the pending states.
        update = input.remote_records()
        if update.get("dataset") != dataset.get().dataset_id:
            return
        stored = update["state"]
        try:
            review.set(review.get().merge_remote(stored))
            own: set[int] = set()
            for key in sorted(pending_states):
                own.update(pending_records.get(key, []))
                records = [entry for entry in stored.get("records", []) if not (isinstance(entry, dict) and entry.get("index") in own)]
                pending_states[key] = pending_states[key].merge_remote({**stored, "records": records})
        except StoredStateError as error:
            storage_problem.set(f"A change from another tab could not be applied: {error}")

    # The page sends an opened file as base64 slices in order (see openFile in review.js). Each slice
    # is decoded when it arrives, and the bytes are joined when the last one is in.
    upload = {"id": None, "slices": []}

    @reactive.effect
    @reactive.event(input.opened_file)
    async def open_dropped_file():
        piece = input.opened_file()
        if piece["part"] == 0:
            upload["id"], upload["slices"] = piece["upload"], []
        if piece["upload"] != upload["id"]:
            # A slice of a file that a newer one replaced.
            return
        try:
            upload["slices"].append(base64.b64decode(piece["base64"], validate=True))
            if len(upload["slices"]) < piece["parts"]:
                return
            data = b"".join(upload["slices"])
            upload["id"], upload["slices"] = None, []
            loaded = load_dataset_bytes(data, piece["name"])
        except (DatasetFormatError, ValueError) as error:
            upload["id"], upload["slices"] = None, []
            await session.send_custom_message("review-open-result", {"ok": False, "message": str(error)})
            return
        exclude_from_garbage_collection()
        await load_dataset_into_session(loaded)
        count = len(loaded.records)
        await session.send_custom_message(
            "review-open-result",
            {
                "ok": True,
                "message": f"Opened {loaded.name}: {count} record{'' if count == 1 else 's'} ({loaded.format}), "
                f"{len(loaded.problems)} problems",
            },
        )

    # The records that pass the filters.

    @reactive.calc
    def search_texts() -> list[str]:
        texts = []
        for record in dataset.get().records:
            parts = [message.text for message in record.messages]
            parts.append(record.output_text)
            texts.append("\n".join(parts).casefold())
        return texts

    @reactive.calc
    def view() -> View:
        state = review.get()
        status = input.filter_status()
        label = input.filter_label()
        query = input.search().strip().casefold()
        if not (status or label or query):
            return View(indices=range(state.total), total=state.total)

        texts = search_texts() if query else None
        indices = []
        for index in range(state.total):
            current = state.review_at(index)
            if status and current.status != status:
                continue
            if label and label not in current.labels:
                continue
            if texts is not None and query not in texts[index] and query not in state.output_at(index).casefold():
                continue
            indices.append(index)
        return View(indices=indices, total=state.total)

    @reactive.effect
    @reactive.event(input.filter_status, input.filter_label, input.search)
    async def follow_filters():
        req(storage_ready())
        state = latest()
        target = view().first_from(0 if state.is_done else state.position)
        if target != state.position:
            await commit(state.move_to(target), [])

    # Keep the editor, note and labels in step with the current record.

    @reactive.effect
    def show_current_record():
        req(storage_ready())
        state = review.get()
        current = state.current
        # Every confirmed save, and every change from another tab, sets `review`. On the same record
        # a field is set only when its value changed: saving a note keeps an unsaved edit in the
        # editor, and labels ticked while an earlier save is confirmed are not unticked again.
        same_record = state.originals is editor["originals"] and state.position == editor["position"]
        with reactive.isolate():
            newest = latest().review_at(state.position) if same_record and current else current
            shown_note = input.note()
            shown_labels = set(input.labels() or ())

        output = state.output_at(state.position) if current else ""
        output_key = (current.status if current else None, output)
        if not same_record or output_key != editor["output"]:
            ui.update_text_area("output_text", value=output)
            editor["synced"] = False

        note = newest.note if newest else ""
        if not same_record or note != shown_note:
            ui.update_text_area("note", value=note)

        labels = list(newest.labels) if newest else []
        choices = sorted(set(PRESET_LABELS) | set(state.label_counts) | set(labels))
        if not same_record or set(labels) != shown_labels or choices != editor["choices"]:
            ui.update_checkbox_group("labels", choices=choices, selected=labels, inline=True)
        editor.update(originals=state.originals, position=state.position, output=output_key, choices=choices)

    @reactive.effect
    def offer_label_filter():
        labels = sorted(set(PRESET_LABELS) | set(review.get().label_counts))
        with reactive.isolate():
            selected = input.filter_label()
        ui.update_select("filter_label", choices={"": "All", **{label: label for label in labels}}, selected=selected)

    # Decisions.

    @reactive.effect(priority=1)
    @reactive.event(input.output_text)
    def mark_editor_synced():
        # The higher priority runs this before an Accept that arrives in the same message.
        editor["synced"] = True

    def editor_output(state: ReviewState) -> str:
        """Return the output to accept for the current record of `state`: the editor's text if it shows that record."""
        # A decision made before the page confirmed the previous one applies to a record that the
        # editor has not shown yet, and until the page sends the editor's text after a record
        # change, input.output_text is the previous record's text.
        if state.position != editor["position"] or not editor["synced"]:
            return state.output_at(state.position)
        return input.output_text()

    @reactive.effect
    @reactive.event(input.accept)
    async def accept_record():
        state = latest()
        req(storage_ready(), not state.is_done)
        next_position = view().next_after(state.position)
        await commit(state.accept(editor_output(state), next_position=next_position), [state.position], decision=True)

    @reactive.effect
    @reactive.event(input.reject)
    async def reject_record():
        state = latest()
        req(storage_ready(), not state.is_done)
        next_position = view().next_after(state.position)
        await commit(state.reject(next_position=next_position), [state.position], decision=True)

    @reactive.effect
    @reactive.event(input.reset)
    async def reset_record():
        state = latest()
        req(storage_ready(), not state.is_done)
        if state.position == editor["position"]:
            # Reset also drops unsaved text in the editor, which no stored change would replace.
            ui.update_text_area("output_text", value=state.original_outputs[state.position])
            editor["synced"] = False
        await commit(state.reset(), [state.position])

    @reactive.effect
    @reactive.event(input.undo)
    async def undo_decision():
        req(storage_ready())
        undone = latest().undo()
        if undone is None:
            ui.notification_show("Nothing to undo.", duration=2, type="message")
            return
        state, index = undone
        await commit(state, [index])

    # The higher priority saves a note on its own record before an Accept sent right after it moves on.
    @reactive.effect(priority=1)
    @reactive.event(input.note)
    async def save_note():
        state = latest()
        req(storage_ready(), not state.is_done)
        if input.note() != state.review_at(state.position).note:
            await commit(state.annotate(note=input.note()), [state.position])

    @reactive.effect
    @reactive.event(input.labels, ignore_none=False)
    async def save_labels():
        state = latest()
        req(storage_ready(), not state.is_done)
        labels = list(input.labels() or [])
        if labels != state.review_at(state.position).labels:
            await commit(state.annotate(labels=labels), [state.position])

    @reactive.effect
    @reactive.event(input.add_label)
    async def add_label():
        state = latest()
        label = input.new_label().strip()
        req(storage_ready(), not state.is_done, label)
        current = state.review_at(state.position)
        ui.update_text("new_label", value="")
        if label not in current.labels:
            await commit(state.annotate(labels=[*current.labels, label]), [state.position])

    # Navigation.

    @reactive.effect
    @reactive.event(input.back)
    async def go_back():
        req(storage_ready())
        state = latest()
        previous = view().previous_before(state.position)
        if previous is not None:
            await commit(state.move_to(previous), [])

    @reactive.effect
    @reactive.event(input.next)
    async def go_next():
        req(storage_ready())
        state = latest()
        if team is not None:
            # In team review Next moves through the queue of records reserved for this reviewer.
            show_team_outcome(await asyncio.to_thread(team.go_next, state))
            return
        following = view().next_after(state.position)
        # Next stops at the last record; only a decision there moves past it to the summary.
        if following >= state.total:
            ui.notification_show("This is the last record in this view.", duration=2, type="message")
            return
        await commit(state.move_to(following), [])

    @reactive.effect
    @reactive.event(input.jump)
    async def jump_to_record():
        req(storage_ready())
        number = input.jump_to()
        state = latest()
        if number is None or not 1 <= number <= state.total:
            ui.notification_show(f"Enter a record number from 1 to {state.total}.", duration=3, type="warning")
            return
        await commit(state.move_to(int(number) - 1), [])

    @reactive.effect
    @reactive.event(input.next_pending)
    async def go_next_pending():
        req(storage_ready())
        state = latest()
        order = list(range(state.position + 1, state.total)) + list(range(0, min(state.position + 1, state.total)))
        for index in order:
            if state.review_at(index).status == "Pending":
                await commit(state.move_to(index), [])
                return
        ui.notification_show("No pending records left.", duration=3, type="message")

    @reactive.effect
    @reactive.event(input.storage_download_raw)
    async def download_raw_store():
        await session.send_custom_message("review-storage-dump", {"dataset": dataset.get().dataset_id})

    @reactive.effect
    @reactive.event(input.storage_start_fresh)
    async def start_fresh():
        await session.send_custom_message("review-storage-clear", {"dataset": dataset.get().dataset_id})

    @reactive.effect
    @reactive.event(input.storage_cleared)
    async def resume_after_clear():
        unreadable_store.set("")
        state = latest()
        await commit(state, list(state.changes))
        ui.notification_show("Saved progress was deleted; this dataset starts fresh.", duration=4)

    @reactive.effect
    @reactive.event(input.backup_progress)
    async def download_progress():
        current = dataset.get()
        backup = make_progress_backup(current, latest())
        name = f"{Path(current.name).stem or 'dataset'}.progress.json"
        await session.send_custom_message(
            "review-download", {"filename": name, "text": json.dumps(backup, ensure_ascii=False, indent=2)}
        )

    @reactive.effect
    @reactive.event(input.progress_file)
    async def load_progress():
        state = latest()
        try:
            merged, changed, conflicts = merge_progress_backup(dataset.get(), state, input.progress_file()["text"])
        except (ValueError, StoredStateError) as error:
            ui.notification_show(f"Progress file not loaded: {error}", duration=8, type="error")
            return
        await commit(merged, changed)
        message = f"Loaded progress: {len(changed)} record(s) updated"
        if conflicts:
            listed = ", ".join(str(index + 1) for index in conflicts[:20])
            message += f"; {len(conflicts)} conflict(s) kept as in this browser (records {listed})"
        ui.notification_show(message, duration=10, type="warning" if conflicts else "message")

    @reactive.effect
    @reactive.event(input.download)
    async def download_export():
        if team is not None:
            # Every reviewer's decisions, with who made them and when, not only this session's.
            name, text = await asyncio.to_thread(team.export, input.export_format())
            await session.send_custom_message("review-download", {"filename": name, "text": text})
            return
        state = latest()
        reviews = [state.review_at(index) for index in range(state.total)]
        name, text = export_file(dataset.get(), reviews, input.export_format())
        await session.send_custom_message("review-download", {"filename": name, "text": text})

        # Some formats have no place for an edit, such as a transcript that ends without an output.
        if input.export_format() == "original" and any(review.edited_output is not None for review in reviews):
            unstored = list_unstored_edits(dataset.get(), reviews)
            if unstored:
                more = f" ({len(unstored) - 1} more like it)" if len(unstored) > 1 else ""
                ui.notification_show(f"Not every edit is in {name}: {unstored[0]}{more}", duration=15, type="warning")

    # Outputs.

    @render.text
    def dataset_name():
        current = dataset.get()
        return f"{current.name} · {current.format}"

    @render.text
    def progress():
        # Nothing can be decided until the saved progress is read. The line shows that, so that
        # "Record i of N" always means the record is ready.
        if not storage_ready():
            return "Loading saved progress…"
        return describe_progress(review.get(), view())

    @render.ui
    def team_panel():
        req(team is not None)
        if team.problem:
            return tags.div(team.problem, class_="alert alert-danger", role="alert")
        sign_out = None
        if team.sign_out_path:
            sign_out = tags.form(
                tags.button("Sign out", type="submit", class_="btn btn-link btn-sm p-0 align-baseline"),
                method="post",
                action=team.sign_out_path,
                class_="d-inline ms-2",
            )
        notices = [
            tags.div(describe_conflict(conflict), class_="alert alert-warning team-conflict", role="alert")
            for conflict in team_conflicts.get()
        ]
        return tags.div(
            tags.p("Team review, signed in as ", tags.strong(team.reviewer, class_="team-reviewer"), sign_out, class_="mb-2"),
            *notices,
            class_="team-panel",
        )

    @render.ui
    def storage_notice():
        unreadable = unreadable_store.get()
        if unreadable:
            return tags.div(
                tags.p(
                    unreadable,
                    " It is kept as it is, and nothing is saved over it until you choose:",
                    class_="mb-2",
                ),
                ui.input_action_button("storage_download_raw", "Download saved progress as it is", class_="btn-sm btn-outline-dark me-2"),
                ui.input_action_button("storage_start_fresh", "Start fresh", class_="btn-sm btn-outline-danger"),
                class_="alert alert-danger",
                role="alert",
            )
        problem = storage_problem.get()
        req(problem)
        return tags.div(
            problem,
            " Use Download or Download progress to keep your work.",
            class_="alert alert-warning",
            role="alert",
        )

    @render.ui
    def dataset_problems():
        problems = dataset.get().problems
        req(problems)
        items = [tags.li(f"{problem.location}" + (f", {problem.field}" if problem.field else "") + f": {problem.message}") for problem in problems[:100]]
        more = len(problems) - len(items)
        return tags.details(
            tags.summary(f"{len(problems)} part(s) of {dataset.get().name} could not be read; the other records are loaded"),
            tags.ul(*items),
            tags.p(f"… and {more} more") if more > 0 else None,
            class_="alert alert-warning dataset-problems",
        )

    # Rendered conversations by dataset and record index. After each update sent to the page, the
    # next record in the view is rendered while the reviewer reads this one, so that Accept and
    # Next show it without waiting for the markdown parser.
    conversations: OrderedDict[tuple[str, int], ui.HTML] = OrderedDict()

    def render_cached_conversation(loaded: LoadedDataset, index: int) -> ui.HTML:
        key = (loaded.dataset_id, index)
        if key in conversations:
            conversations.move_to_end(key)
            return conversations[key]

        html = ui.HTML(str(render_conversation(loaded.records[index].messages)))
        conversations[key] = html
        while len(conversations) > CACHED_CONVERSATIONS:
            conversations.popitem(last=False)
        return html

    def render_next_conversation() -> None:
        try:
            with reactive.isolate():
                if not storage_ready():
                    return
                state = latest()
                loaded = dataset.get()
                following = view().next_after(state.position)
            if following < state.total:
                render_cached_conversation(loaded, following)
        except Exception as error:  # noqa: BLE001 - a missed head start must not end the session
            print(f"Rendering the next record ahead failed: {error!r}", file=sys.stderr)

    session.on_flushed(render_next_conversation, once=False)

    @render.ui
    def conversation():
        req(storage_ready())
        state = review.get()
        req(not state.is_done)
        return render_cached_conversation(dataset.get(), state.position)

    @render.ui
    def output_calls():
        req(storage_ready())
        state = review.get()
        req(not state.is_done)
        return render_output_calls(dataset.get().records[state.position].output)

    @render.ui
    def output_diff():
        req(storage_ready())
        state = review.get()
        req(not state.is_done)
        text = input.output_text()
        # Right after a record change the editor still contains the previous record's text, and a
        # word diff of two unrelated outputs costs about as much as rendering the conversation.
        # The page sends the new text next, which renders the diff again.
        if state.position != editor["position"] or not editor["synced"]:
            return None
        return render_diff(state.original_outputs[state.position], text)

    @render.ui
    def status_box():
        req(storage_ready())
        current = review.get().current
        req(current)
        return render_status_box(current)

    @render.ui
    def done_message():
        req(storage_ready(), review.get().is_done)
        pending = review.get().counts["Pending"]
        if pending:
            return tags.div(
                tags.strong("End of the list."),
                f" {pending} record(s) are still pending: use Next pending, or go Back to revise.",
                class_="alert alert-info",
                role="status",
            )
        return tags.div(
            tags.strong("You are done!"),
            " Every record has a decision. Download the curated data, or go Back to revise.",
            class_="alert alert-success",
            role="status",
        )

    @render.ui
    def counts():
        req(storage_ready())
        return render_counts(review.get())

    @render.text
    def review_rate():
        reactive.invalidate_later(60)
        return describe_rate(decisions.get(), started)


app = App(app_ui, server)
