"""The contract documents every scenario's output, generated from the schemas the harness
validates against; a result that does not fit its schema fails with the field named.

Pure data: the schemas, the generated document, and results built here (no process runs).
"""

from __future__ import annotations

from chainmark import contract_doc
from chainmark.contract import ContestantResult, Operation
from chainmark.harness.verify import schema_problems, verify
from chainmark.scenarios import ALL_BY_NAME, get
from chainmark.scenarios.evidence import Evidence


def test_the_committed_contract_matches_the_schemas() -> None:
    text = contract_doc.CONTRACT_PATH.read_text(encoding="utf-8")
    assert text == contract_doc.updated(text), (
        "src/chainmark/contestants/CONTRACT.md is stale: run "
        "`.venv/bin/python -m chainmark.contract_doc`")


def test_every_scenario_and_every_field_is_documented() -> None:
    section = contract_doc.render()
    for scenario in ALL_BY_NAME.values():
        assert f"### `{scenario.name}`" in section
        for schema in scenario.operations.values():
            for field in schema.model_fields:
                assert f"| `{field}` |" in section


def test_a_stale_section_is_replaced_and_a_missing_one_appended() -> None:
    fresh = contract_doc.render()
    stale = f"# prose\n\n{contract_doc.BEGIN}\nold\n{contract_doc.END}\n\nafter\n"
    assert contract_doc.updated(stale) == f"# prose\n\n{fresh}\n\nafter\n"
    assert contract_doc.updated("# prose\n") == f"# prose\n\n{fresh}\n"


def _result(scenario: str, *outputs: dict, name: str = "op", ok: bool = True
            ) -> ContestantResult:
    ops = [Operation(name=name, start_ns=i * 10, end_ns=i * 10 + 5, elapsed_ns=5, ok=ok,
                     output=out) for i, out in enumerate(outputs)]
    return ContestantResult(contract=2, contestant="t", scenario=scenario, language="x",
                            runtime="x", operations=ops, measure_start_ns=0,
                            measure_end_ns=len(ops) * 10)


def test_a_wrong_type_is_named_by_operation_and_field() -> None:
    result = _result("llm.ttft", {"text": "a", "chunks": 1, "ttft_ns": 3},
                     {"text": "a", "chunks": 1, "ttft_ns": "x"}, name="stream")
    assert schema_problems(get("llm.ttft"), result) == [
        "operation 1 (stream) output.ttft_ns: Input should be a valid integer"]


def test_a_missing_field_and_a_bool_for_an_int_are_caught() -> None:
    scenario = get("rag.retrieve")
    assert schema_problems(scenario, _result("rag.retrieve", {})) == [
        "operation 0 (op) output.documents: Field required"]
    # Strict: JSON true is not the integer 1.
    assert schema_problems(scenario, _result("rag.retrieve", {"documents": True})) == [
        "operation 0 (op) output.documents: Input should be a valid integer"]


def test_an_unknown_step_name_is_refused() -> None:
    problems = schema_problems(get("rag.ingest"), _result("rag.ingest", {"x": 1}, name="foo"))
    assert problems == ["operation 0: unknown operation name 'foo' for rag.ingest (expected "
                        "one of: embed_store, load, split)"]


def test_failed_operations_need_only_an_error_kind_of_the_right_type() -> None:
    scenario = get("stress.saturation")
    assert schema_problems(scenario, _result("stress.saturation", {"error_kind": "timeout"},
                                             ok=False)) == []
    assert schema_problems(scenario, _result("stress.saturation", {"error_kind": 3},
                                             ok=False)) == [
        "operation 0 (op) output.error_kind: Input should be a valid string"]


def test_whole_run_outputs_are_validated() -> None:
    scenario = get("ops.observability")
    result = _result("ops.observability")
    result.outputs = {"phases": [{"mode": "bare", "start_ns": 1}]}
    assert schema_problems(scenario, result) == ["outputs.phases.0.end_ns: Field required"]


def test_verification_stops_at_the_shape_before_the_verifier_reads_it() -> None:
    scenario = get("llm.ttft")
    result = _result("llm.ttft", {"text": "a", "chunks": 1, "ttft_ns": "x"})
    evidence = Evidence(result=result, params={"iterations": 1}, server=None, model="m")
    assert verify(scenario, evidence) == [
        "operation 0 (op) output.ttft_ns: Input should be a valid integer"]
