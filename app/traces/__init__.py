"""Normalized LLM trace records, readers with format detection, and exports.

Every supported format (see FORMATS) is read into the same Record model, so
the review app works the same for each. Pure Python with pydantic, so it runs
in the browser on Pyodide.
"""

from traces.exports import (
    apply_review,
    export_normalized_jsonl,
    export_openai_finetune,
    export_original,
    list_unstored_edits,
)
from traces.model import (
    STATUSES,
    Message,
    OtherPart,
    Part,
    ReasoningPart,
    Record,
    Review,
    Status,
    TextPart,
    ToolCallPart,
    ToolResultPart,
)
from traces.problems import DatasetFormatError, Problem
from traces.readers import (
    FORMATS,
    LoadedDataset,
    detect_format,
    load_dataset_bytes,
    load_dataset_file,
)

__all__ = [
    "FORMATS",
    "STATUSES",
    "DatasetFormatError",
    "LoadedDataset",
    "Message",
    "OtherPart",
    "Part",
    "Problem",
    "ReasoningPart",
    "Record",
    "Review",
    "Status",
    "TextPart",
    "ToolCallPart",
    "ToolResultPart",
    "apply_review",
    "detect_format",
    "export_normalized_jsonl",
    "export_openai_finetune",
    "export_original",
    "list_unstored_edits",
    "load_dataset_bytes",
    "load_dataset_file",
]
