"""harness.redact: a key never survives in any escaped form, and keys that HTTP rejects are refused first."""

from __future__ import annotations

import json
import socket

import httpx
import pytest
from hostile import assert_user_error, punc

from harness.errors import PuncError, printable
from harness.redact import SecretRefused, check_key, forms, scrub

CORE = "sk-test-Rd77-never-in-output-4410"


@pytest.mark.parametrize("tail", ["\n", "\r", "\r\n", "\t", "\x00", " "])
def test_httpx_error_text_is_scrubbed(tail):
    """The reviewer's leak: httpx quotes the whole header value, escaped, in its error."""
    key = CORE + tail
    with socket.create_server(("127.0.0.1", 0)) as listener, httpx.Client(timeout=5) as client:
        port = listener.getsockname()[1]
        try:
            client.get(f"http://127.0.0.1:{port}/", headers={"Authorization": f"Bearer {key}"})
            message = None
        except Exception as exc:  # noqa: BLE001 - whatever httpx raises is what would be logged
            message = f"{type(exc).__name__}: {exc}"
    assert message is not None, "httpx sent an illegal header value"
    assert CORE in message  # the leak is real
    cleaned = scrub(message, [key])
    assert CORE not in cleaned and "***" in cleaned


def test_every_written_form_is_scrubbed():
    key = CORE + "\r\n"
    texts = [
        repr(key),
        repr(key.encode()),
        json.dumps({"error": key}),
        json.dumps({"error": key}, ensure_ascii=False),
        printable(key),
        "https://x/?k=" + __import__("urllib.parse").parse.quote(key),
        f"plain {key} text",
    ]
    for text in texts:
        assert CORE not in scrub(text, [key]), text
    assert all(len(f) >= 4 for f in forms("ab"))  # too short to be a key: nothing replaced


def test_keys_with_control_characters_are_refused_without_showing_them():
    for bad in (CORE + "\n", CORE + "\r", "sk-\x00x", "sk x", "sk-é"):
        with pytest.raises(SecretRefused) as info:
            check_key(bad, "env KEY")
        assert CORE not in str(info.value) and "sk-" not in str(info.value)
    assert check_key(CORE, "env KEY") == CORE


def test_openai_judge_refuses_such_a_key(monkeypatch):
    from harness.config.judge import JudgeConfig
    from harness.judges.openai_backend import OpenAIJudge

    monkeypatch.setenv("PUNC_TEST_BAD_KEY", CORE + "\n")
    config = JudgeConfig.model_validate(
        {"name": "r", "backend": "openai", "model": "m", "base_url": "http://127.0.0.1:9/v1",
         "api_key_env": "PUNC_TEST_BAD_KEY"}
    )  # fmt: skip
    with pytest.raises(PuncError, match="PUNC_TEST_BAD_KEY") as info:
        OpenAIJudge(config)
    assert CORE not in str(info.value)


def test_eval_with_a_newline_key_stops_and_writes_no_key(tmp_path):
    """End to end through the installed `punc`: exit 2, the key in no output and no file."""
    (tmp_path / "p.jsonl").write_text('{"id": "a", "text": "a red circle"}\n')
    (tmp_path / "t.yaml").write_text(
        "name: leak\nprompts: p.jsonl\nimages_per_prompt: 1\nscorers: [rouge1]\n"
    )
    (tmp_path / "j.yaml").write_text(
        "name: remote\nbackend: openai\nmodel: m\nbase_url: http://127.0.0.1:9/v1\napi_key_env: PUNC_K\n"
    )
    (tmp_path / "images" / "a").mkdir(parents=True)
    from PIL import Image

    Image.new("RGB", (8, 8)).save(tmp_path / "images" / "a" / "0.png")
    for tail in ("\r",):
        run = tmp_path / f"run{ord(tail)}"
        done = punc(
            "eval", str(tmp_path / "t.yaml"), "-g", str(tmp_path / "images"), "-j", str(tmp_path / "j.yaml"),
            "-o", str(run), "-q", env={"PUNC_K": CORE + tail}, timeout=300,
        )  # fmt: skip
        assert_user_error(done, "PUNC_K", "cannot carry")
        assert CORE not in done.stdout + done.stderr
        leaked = [p for p in run.rglob("*") if p.is_file() and CORE.encode() in p.read_bytes()]
        assert leaked == []


def test_serve_judge_refuses_such_a_key(tmp_path):
    (tmp_path / "j.yaml").write_text("name: j\nbackend: transformers\nmodel: m\n")
    done = punc(
        "serve-judge", str(tmp_path / "j.yaml"), "--port", "0", "--api-key-env", "PUNC_K",
        env={"PUNC_K": CORE + "\n"}, timeout=120,
    )  # fmt: skip
    assert_user_error(done, "PUNC_K")
    assert CORE not in done.stdout + done.stderr
