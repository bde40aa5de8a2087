"""Property tests of serve-judge's request handling: any body, any header, answered with a 4xx (or 200
for a valid request) within a time limit; never a dropped connection, a 500 or a hang."""

from __future__ import annotations

import http.client
import json
import socket
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tiny_judges import make_images

from harness.judges._images import image_to_data_url
from harness.judges.server import JudgeServer, _BadRequest, parse_chat_request, request_seed

PROPERTY = settings(
    max_examples=80,
    deadline=timedelta(seconds=10),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
IMAGE = image_to_data_url(make_images(1, size=16)[0])
FIELDS = ["messages", "seed", "max_tokens", "max_completion_tokens", "temperature", "top_p", "top_k", "model"]


def valid_body() -> dict:
    parts = [{"type": "image_url", "image_url": {"url": IMAGE}}, {"type": "text", "text": "hi"}]
    return {"model": "tiny", "messages": [{"role": "user", "content": parts}], "max_tokens": 3}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from tiny_judges import build_tiny_captioner, judge_config

    from harness.judges.transformers_backend import TransformersJudge

    judge = TransformersJudge(judge_config(build_tiny_captioner(tmp_path_factory.mktemp("cap"))))
    with JudgeServer(judge, port=0, idle_timeout_s=2, read_timeout_s=5) as running:
        yield running


def status_of(server: JudgeServer, body: bytes, headers: dict[str, str]) -> int:
    conn = http.client.HTTPConnection(server.host, server.port, timeout=20)
    try:
        conn.putrequest("POST", "/v1/chat/completions", skip_accept_encoding=True)
        for name, value in headers.items():
            conn.putheader(name, value)
        conn.endheaders(body)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


@PROPERTY
@given(field=st.sampled_from(FIELDS), value=json_values)
def test_any_field_value(server, field, value):
    body = {**valid_body(), field: value}
    data = json.dumps(body).encode()
    status = status_of(server, data, {"Content-Length": str(len(data))})
    assert status in (200, 400), (field, value, status)
    try:  # the parser functions agree with the server: a 400 is a _BadRequest or a ValueError
        parse_chat_request(body)
        server.decoding_for(body)
        request_seed(body)
    except (_BadRequest, ValueError):
        assert status == 400


@PROPERTY
@given(body=st.one_of(st.binary(max_size=200), json_values.map(lambda v: json.dumps(v).encode())))
def test_any_body(server, body):
    assert status_of(server, body, {"Content-Length": str(len(body))}) in (400,)


@PROPERTY
@given(
    length=st.one_of(
        st.text(max_size=12).filter(lambda t: "\r" not in t and "\n" not in t),
        st.integers(-5, 10**20).map(str),
    ),
    encoding=st.sampled_from([None, "chunked", "gzip"]),
)
def test_any_content_length(server, length, encoding):
    """Raw socket: whatever Content-Length says, an HTTP answer comes back (4xx), the socket is not just cut."""
    head = f"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n"
    if encoding:
        head += f"Transfer-Encoding: {encoding}\r\n"
    with socket.create_connection((server.host, server.port), timeout=20) as sock:
        sock.sendall(head.encode("utf-8", "replace") + b"Connection: close\r\n\r\n{}")
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1."), (length, answer[:80])
    assert int(answer.split(b" ", 2)[1]) in (400, 411, 413), answer[:120]
