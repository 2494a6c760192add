"""Team mode: the review app on a server, with every reviewer's decisions in a shared database.

Needs SQLAlchemy (and psycopg for PostgreSQL), which the browser build does not ship; app.py
imports this package only when LLM_REVIEW_DATABASE_URL is set. `python -m team` is the command
line (see docs/team-mode.md).
"""

from team.agreement import AgreementReport, PairAgreement, RecordAgreement, cohen_kappa, measure_agreement
from team.schema import LATEST_VERSION, SchemaError
from team.store import Conflict, DatasetInfo, ReviewStore, StoredReview, StoreError

__all__ = [
    "LATEST_VERSION",
    "AgreementReport",
    "Conflict",
    "DatasetInfo",
    "PairAgreement",
    "RecordAgreement",
    "ReviewStore",
    "SchemaError",
    "StoreError",
    "StoredReview",
    "cohen_kappa",
    "measure_agreement",
]
