"""The plan's ``--summary-json`` document: what a pipeline branches on, with its schema
(``schemas/plan-summary.schema.json``)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from reconcile.plan.change import Kind
from reconcile.plan.plan import KINDS, WRITE_ACTIONS, Plan
from reconcile.plan.planfile import SCHEMA_DIALECT
from reconcile.settings import Safety


class PlanSummary(BaseModel):
    """Counts and the safety verdict of a plan, written by ``plan --summary-json FILE``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format_version: str
    environment: str
    client_id: str
    has_changes: bool
    fingerprint: str = Field(description="sha256 of the plan's changes, as `show` prints")
    counts: dict[Kind, dict[str, int]] = Field(
        description="per kind: create, update, deactivate, no_op"
    )
    totals: dict[str, int] = Field(description="create, update, deactivate, no_op")
    unmanaged: int
    unreadable: int
    warnings: int
    unsafe: bool
    unsafe_reasons: list[str]

    @classmethod
    def of(cls, plan: Plan, safety: Safety) -> PlanSummary:
        reasons = plan.safety_report(safety)
        return cls(
            format_version=plan.format_version,
            environment=plan.environment,
            client_id=plan.client_id,
            has_changes=plan.has_changes,
            fingerprint=plan.fingerprint(),
            counts={kind: plan.summary.of(kind).model_dump() for kind in KINDS},
            totals={a: plan.summary.total(a) for a in (*WRITE_ACTIONS, "no_op")},
            unmanaged=plan.summary.unmanaged,
            unreadable=plan.summary.unreadable,
            warnings=len(plan.warnings),
            unsafe=bool(reasons),
            unsafe_reasons=reasons,
        )


def summary_schema(model: type[BaseModel], name: str) -> dict[str, Any]:
    """A summary document's JSON Schema, published as ``schemas/<name>``."""
    schema = model.model_json_schema(mode="serialization")
    return {"$schema": SCHEMA_DIALECT, "$id": name, **schema}
