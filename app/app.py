"""LLM Data Review: step through LLM runs, correct the final output, accept or reject each one.

The same file runs under `shiny run app/app.py` and inside the browser on Pyodide. Browser storage
(IndexedDB) and file downloads are handled by www/review.js in the page; the server talks to it through
custom messages and reads its replies as inputs.
"""

from __future__ import annotations

import os
from pathlib import Path

from chat_view import render_conversation
from htmltools import tags
from review_data import STATUSES, Dataset, export_dataset, load_dataset
from review_state import ReviewState, StoredStateError
from shiny import App, reactive, render, req, ui

APP_DIR = Path(__file__).resolve().parent

# The build places the dataset in datasets/; a checkout without one falls back to the sample data.
DATASETS_DIR = APP_DIR / "datasets"
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


def curated_file_name(dataset: Dataset) -> str:
    """Return the download name, e.g. "runs.json" becomes "runs.curated.json"."""
    stem = Path(dataset.name).stem or "dataset"
    return f"{stem}.curated.json"


DATASET = load_dataset(find_dataset_path())

app_ui = ui.page_fluid(
    # An empty icon keeps the browser from requesting /favicon.ico, which no server here has.
    ui.head_content(tags.link(rel="icon", href="data:,")),
    ui.include_css(APP_DIR / "www" / "review.css"),
    ui.include_js(APP_DIR / "www" / "review.js"),
    tags.header(
        tags.h1("LLM Data Review", class_="h4 mb-0"),
        tags.span(DATASET.name, class_="dataset-name text-muted"),
        ui.output_text("progress", inline=True),
        class_="review-header",
    ),
    ui.output_ui("storage_notice"),
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
            ui.input_text_area(
                "output_text",
                "LLM Output (Editable)",
                rows=14,
                width="100%",
                resize="vertical",
            ),
            tags.div(
                ui.input_action_button("accept", "Accept", class_="btn-success"),
                ui.input_action_button("reject", "Reject", class_="btn-danger"),
                ui.input_action_button("back", "Back", class_="btn-outline-secondary"),
                ui.input_action_button("next", "Next", class_="btn-outline-secondary"),
                ui.input_action_button("reset", "Reset", class_="btn-outline-warning"),
                class_="review-buttons",
            ),
            tags.h2("Counts", class_="h6 text-muted mt-3"),
            ui.output_ui("counts"),
            ui.input_action_button("download", "Download curated JSON", class_="btn-primary"),
            class_="review-column",
            aria_label="Review",
        ),
        col_widths={"sm": 12, "lg": (7, 5)},
    ),
    title="LLM Data Review",
)


def server(input, output, session):
    review = reactive.value(ReviewState.from_dataset(DATASET))

    # Nothing is shown or changed until the page has answered with the stored progress, so a
    # decision made in the first second can't be overwritten by the restore.
    storage_ready = reactive.value(False)
    storage_problem = reactive.value("")

    async def commit(state: ReviewState) -> None:
        review.set(state)
        await session.send_custom_message(
            "review-storage-save", {"key": DATASET.dataset_id, "state": state.to_storage()}
        )

    @reactive.effect
    async def request_stored_review():
        await session.send_custom_message("review-storage-load", {"key": DATASET.dataset_id})

    @reactive.effect
    @reactive.event(input.stored_review)
    def restore_stored_review():
        reply = input.stored_review()
        stored = reply.get("state")
        if reply.get("error"):
            storage_problem.set(f"Progress is not being saved: {reply['error']}")
        elif stored is not None:
            try:
                review.set(review.get().restore(stored))
            except StoredStateError as error:
                storage_problem.set(f"Saved progress could not be read and was ignored: {error}")
        storage_ready.set(True)

    @reactive.effect
    @reactive.event(input.storage_error)
    def report_storage_error():
        storage_problem.set(f"Progress is not being saved: {input.storage_error()}")

    @reactive.effect
    def show_current_output():
        req(storage_ready())
        current = review.get().current
        ui.update_text_area("output_text", value=current.output if current else "")

    @reactive.effect
    @reactive.event(input.accept)
    async def accept_record():
        state = review.get()
        req(storage_ready(), not state.is_done)
        await commit(state.accept(input.output_text()))

    @reactive.effect
    @reactive.event(input.reject)
    async def reject_record():
        state = review.get()
        req(storage_ready(), not state.is_done)
        await commit(state.reject())

    @reactive.effect
    @reactive.event(input.reset)
    async def reset_record():
        state = review.get()
        req(storage_ready(), not state.is_done)
        await commit(state.reset())

    @reactive.effect
    @reactive.event(input.back)
    async def go_back():
        req(storage_ready())
        await commit(review.get().go_back())

    @reactive.effect
    @reactive.event(input.next)
    async def go_next():
        req(storage_ready())
        await commit(review.get().go_next())

    @reactive.effect
    @reactive.event(input.download)
    async def download_curated():
        reviews = [(record.status, record.output) for record in review.get().reviews]
        await session.send_custom_message(
            "review-download",
            {"filename": curated_file_name(DATASET), "text": export_dataset(DATASET, reviews)},
        )

    @render.text
    def progress():
        req(storage_ready())
        state = review.get()
        return f"Record {min(state.position + 1, state.total)} of {state.total}"

    @render.ui
    def storage_notice():
        problem = storage_problem.get()
        req(problem)
        return tags.div(problem, class_="alert alert-warning", role="alert")

    @render.ui
    def conversation():
        req(storage_ready())
        state = review.get()
        req(not state.is_done)
        return render_conversation(DATASET.rows[state.position].child_run.inputs)

    @render.ui
    def status_box():
        req(storage_ready())
        current = review.get().current
        req(current)
        return tags.div(
            f"Status: {current.status}",
            class_=f"status-box status-{current.status.lower()}",
            role="status",
        )

    @render.ui
    def done_message():
        req(storage_ready(), review.get().is_done)
        return tags.div(
            tags.strong("You are done!"),
            " Every record has been reviewed. Download the curated JSON, or go Back to revise.",
            class_="alert alert-success",
            role="status",
        )

    @render.ui
    def counts():
        req(storage_ready())
        counts = review.get().counts()
        return tags.table(
            tags.thead(tags.tr(tags.th("Status"), tags.th("Count"))),
            tags.tbody(
                *(tags.tr(tags.td(status), tags.td(str(counts[status]))) for status in STATUSES)
            ),
            class_="table table-sm counts-table",
        )


app = App(app_ui, server)
