"""OTLP (OpenTelemetry): one span per call, built with opentelemetry-proto's messages.

The session is one trace (its id from the session id), each call a span under its caller's
span; arguments, return value, file and line are span attributes in OpenTelemetry's semantic
names (``code.function``, ``code.filepath``, ``code.lineno``, ``thread.id``); an exception sets
the span's status and adds the standard "exception" event; captured lines are span events.
Written as OTLP/JSON (what the OpenTelemetry Collector's file receiver reads) or protobuf.
"""

from __future__ import annotations

import hashlib
from typing import Any

from scopeline.engine.cli.tree import CallNode, build_forest
from scopeline.engine.errors import ScopelineError
from scopeline.engine.events import Event


def _proto() -> Any:
    try:
        from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
        from opentelemetry.proto.common.v1 import common_pb2
        from opentelemetry.proto.resource.v1 import resource_pb2
        from opentelemetry.proto.trace.v1 import trace_pb2
    except ImportError as exc:
        raise ScopelineError("feature_disabled", "OTLP export needs the opentelemetry-proto "
                             "package, which is not installed",
                             suggestions=["pip install 'scopeline[otlp]', or export with "
                                          "--format chrome."]) from exc
    return trace_service_pb2, common_pb2, resource_pb2, trace_pb2


def _span_id(event_id: str) -> bytes:
    return hashlib.sha256(event_id.encode()).digest()[:8]


class _Builder:
    def __init__(self, trace_id: bytes) -> None:
        self.service, self.common, self.resource, self.trace = _proto()
        self.trace_id = trace_id
        self.spans: list[Any] = []

    def attr(self, key: str, value: Any) -> Any:
        any_value = self.common.AnyValue()
        if isinstance(value, bool):
            any_value.bool_value = value
        elif isinstance(value, int):
            any_value.int_value = value
        else:
            any_value.string_value = str(value)
        return self.common.KeyValue(key=key, value=any_value)

    def add(self, node: CallNode, parent: bytes | None) -> None:
        entry, end = node.entry, node.exit
        span = self.trace.Span(trace_id=self.trace_id, span_id=_span_id(entry.event_id),
                               name=f"{entry.module}:{entry.function}",
                               kind=self.trace.Span.SPAN_KIND_INTERNAL,
                               start_time_unix_nano=entry.timestamp,
                               end_time_unix_nano=entry.timestamp + (node.duration_ns or 0))
        if parent is not None:
            span.parent_span_id = parent
        attrs = [self.attr("code.function", entry.function),
                 self.attr("code.namespace", entry.module),
                 self.attr("code.filepath", entry.file), self.attr("code.lineno", entry.line),
                 self.attr("thread.id", entry.thread_id),
                 self.attr("thread.name", entry.thread_name),
                 self.attr("scopeline.source", entry.source)]
        attrs += [self.attr(f"scopeline.arguments.{k}", v)
                  for k, v in entry.data.get("arguments", {}).items()]
        if end is not None and end.type == "function_exit":
            attrs.append(self.attr("scopeline.return_value", end.data.get("return_value")))
        elif end is not None:
            message = str(end.data.get("exception"))
            span.status.code = self.trace.Status.STATUS_CODE_ERROR
            span.status.message = message
            span.events.append(self.trace.Span.Event(
                name="exception", time_unix_nano=end.timestamp,
                attributes=[self.attr("exception.message", message)]))
        span.attributes.extend(attrs)
        for line in node.lines:
            values = line.data.get("locals") or {
                k: v for k, v in line.data.items() if k != "expression"}
            span.events.append(self.trace.Span.Event(
                name=f"{line.type} line {line.line}", time_unix_nano=line.timestamp,
                attributes=[self.attr(f"scopeline.{k}", v) for k, v in values.items()]))
        self.spans.append(span)
        for child in node.children:
            self.add(child, span.span_id)

    def request(self, meta: dict[str, Any]) -> Any:
        resource = self.resource.Resource(attributes=[
            self.attr("service.name", "scopeline"),
            self.attr("scopeline.session_id", meta.get("session_id", "")),
            self.attr("scopeline.mode", meta.get("mode", ""))])
        scope = self.common.InstrumentationScope(name="scopeline")
        return self.service.ExportTraceServiceRequest(resource_spans=[
            self.trace.ResourceSpans(resource=resource, scope_spans=[
                self.trace.ScopeSpans(scope=scope, spans=self.spans)])])


def to_otlp(meta: dict[str, Any], events: list[Event]) -> Any:
    """The session as an ``ExportTraceServiceRequest`` message."""
    session_id = str(meta.get("session_id", "")) or "0" * 32
    builder = _Builder(bytes.fromhex(session_id.ljust(32, "0")[:32]))
    for roots in build_forest(events).values():
        for node in roots:
            builder.add(node, None)
    return builder.request(meta)


def otlp_json(meta: dict[str, Any], events: list[Event]) -> str:
    from google.protobuf import json_format

    return json_format.MessageToJson(to_otlp(meta, events))
