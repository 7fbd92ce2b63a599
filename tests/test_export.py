"""scopeline export: a stored session opens in Perfetto (Chrome trace) and OpenTelemetry (OTLP)."""

from __future__ import annotations

import json

import hybrid_sample as hs
import pytest
import scopeline
from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from test_cli import scopeline as cli


def traced_session() -> str:
    with scopeline.trace(["hybrid_sample:driver", "hybrid_sample:risky",
                          "hybrid_sample:fact"], include=("calls", "returns", "exceptions"),
                         mode="runtime") as s:
        hs.driver(4)
        hs.fact(3)
    return s.session_id


pytestmark = pytest.mark.usefixtures("no_governor")


def test_chrome_trace_has_one_complete_event_per_call_nested_in_time(tmp_path) -> None:
    sid = traced_session()
    out = tmp_path / "trace.json"
    proc = cli("export", sid[:8], "--format", "chrome", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    trace = json.loads(out.read_text())
    calls = [e for e in trace["traceEvents"] if e["ph"] == "X"]
    # driver + 4 risky + fact(3) → fact(2) → fact(1)
    assert sorted(e["name"].split(":")[1] for e in calls) == [
        "driver", "fact", "fact", "fact", "risky", "risky", "risky", "risky"]
    driver = next(e for e in calls if e["name"].endswith(":driver"))
    for child in (e for e in calls if e["name"].endswith(":risky")):
        assert driver["ts"] <= child["ts"] <= child["ts"] + child["dur"] <= \
            driver["ts"] + driver["dur"]
    failed = [e for e in calls if "exception" in e["args"]]
    assert len(failed) == 2 and all("ValueError" in e["args"]["exception"] for e in failed)
    names = {e["args"]["name"] for e in trace["traceEvents"] if e["name"] == "thread_name"}
    assert names == {"MainThread"}


def test_otlp_json_parses_back_into_linked_spans(tmp_path) -> None:
    sid = traced_session()
    proc = cli("export", sid, "--format", "otlp")
    assert proc.returncode == 0, proc.stderr
    request = json_format.Parse(proc.stdout, ExportTraceServiceRequest())
    spans = list(request.resource_spans[0].scope_spans[0].spans)
    assert len(spans) == 8
    assert len({s.trace_id for s in spans}) == 1
    by_id = {s.span_id: s for s in spans}
    driver = next(s for s in spans if s.name.endswith(":driver"))
    risky = [s for s in spans if s.name.endswith(":risky")]
    assert all(by_id[s.parent_span_id] is driver for s in risky)
    assert not driver.parent_span_id
    errors = [s for s in risky if s.status.code == s.status.STATUS_CODE_ERROR]
    assert len(errors) == 2 and all(s.events[0].name == "exception" for s in errors)
    attrs = {a.key: a.value for a in driver.attributes}
    assert attrs["code.function"].string_value == "driver"
    assert attrs["scopeline.arguments.k"].string_value == "4"
    facts = sorted((s for s in spans if s.name.endswith(":fact")),
                   key=lambda s: s.start_time_unix_nano)
    assert by_id[facts[2].parent_span_id] is facts[1] and by_id[facts[1].parent_span_id] \
        is facts[0]


def test_a_hybrid_session_exports_one_span_per_call(tmp_path) -> None:
    with scopeline.trace("hybrid_sample:work", mode="hybrid", granularity="line") as s:
        for n in range(5):
            hs.work(n)
    proc = cli("export", s.session_id, "--format", "otlp")
    spans = json_format.Parse(proc.stdout, ExportTraceServiceRequest()) \
        .resource_spans[0].scope_spans[0].spans
    assert len(spans) == 5
    assert all(any(e.name.startswith("line_execution") for e in span.events) for span in spans)


def test_an_unknown_session_is_one_clear_line() -> None:
    proc = cli("export", "no-such-session", "--format", "chrome")
    assert proc.returncode == 2
    assert proc.stderr.startswith("error[session_not_found]:")
