"""`punc serve-judge` for real on 127.0.0.1: the OpenAI client against the served tiny judges."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from tiny_judges import judge_config, make_images

from harness.cli.app import main
from harness.config.judge import JudgeConfig
from harness.judges._images import image_to_data_url, sample_seed
from harness.judges.base import CaptionRequest
from harness.judges.openai_backend import OpenAIJudge
from harness.judges.server import JudgeServer, image_fault_key, parse_fault_plan
from harness.judges.transformers_backend import GenerationItem

REPO = Path(__file__).resolve().parents[2]
KEY = "sk-serve-Hk3-do-not-leak-9921"


def client_config(server: JudgeServer, **overrides) -> JudgeConfig:
    fields = {
        "name": "client",
        "backend": "openai",
        "model": "tiny",
        "base_url": server.base_url,
        "max_new_tokens": 12,
        "timeout_s": 20,
        "max_retries": 2,
        "concurrency": 4,
    }
    fields.update(overrides)
    return JudgeConfig.model_validate(fields)


def client(server: JudgeServer, sleeps: list[float] | None = None, **overrides) -> OpenAIJudge:
    def sleep(delay: float) -> None:
        if sleeps is not None:
            sleeps.append(delay)
        time.sleep(delay)

    return OpenAIJudge(client_config(server, **overrides), sleep=sleep, backoff_base_s=0.05)


def requests_for(images, prefix="img"):
    return [
        CaptionRequest(key=f"{prefix}{i}", image=image, prompt_text="p") for i, image in enumerate(images)
    ]


@pytest.fixture
def served(captioner_judge):
    with JudgeServer(captioner_judge, port=0) as server:
        yield server


def test_client_captions_equal_backend_captions(served, captioner_judge, images):
    direct = captioner_judge.caption(requests_for(images))
    remote = client(served).caption(requests_for(images))
    assert all(r.ok for r in remote), [r.error for r in remote]
    assert [r.text for r in remote] == [r.text for r in direct]
    health = httpx.get(f"http://127.0.0.1:{served.port}/health").json()
    assert health["status"] == "ok"
    models = httpx.get(f"{served.base_url}/models").json()
    assert models["object"] == "list" and models["data"][0]["id"] == "tiny"


def test_response_shape(served, images):
    body = {
        "model": "tiny",
        "max_tokens": 12,
        "temperature": 0,
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "image_url", "image_url": {"url": image_to_data_url(images[0])}},
                    {"type": "text", "text": "Describe this image."},
                ],
            }
        ],
    }
    answer = httpx.post(f"{served.base_url}/chat/completions", json=body, timeout=20).json()
    assert answer["object"] == "chat.completion" and answer["id"].startswith("chatcmpl-")
    assert answer["model"] == "tiny"
    (choice,) = answer["choices"]
    assert choice["index"] == 0 and choice["finish_reason"] == "stop"
    assert choice["message"]["role"] == "assistant" and choice["message"]["content"]
    usage = answer["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"] > 0


def test_bad_requests_are_4xx(served, images):
    url = f"{served.base_url}/chat/completions"
    no_image = {"messages": [{"role": "user", "content": "hello"}]}
    assert httpx.post(url, json=no_image).status_code == 400
    remote = {
        "messages": [
            {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "http://x/a.png"}}]}
        ]
    }
    assert httpx.post(url, json=remote).status_code == 400
    assert httpx.post(url, content=b"{not json").status_code == 400
    broken = {
        "messages": [
            {
                "role": "user",
                "content": [{"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}],
            }
        ]
    }
    assert httpx.post(url, json=broken).status_code == 400
    assert httpx.post(f"{served.base_url}/completions", json={}).status_code == 404
    assert httpx.get(f"{served.base_url}/nothing").status_code == 404


def test_faults_are_retried_and_failures_are_errors(captioner_judge, images):
    keys = [image_fault_key(image_to_data_url(image)) for image in images]
    plan = {
        keys[0]: ["500", "500"],  # succeeds on the 3rd attempt (max_retries=2)
        keys[1]: ["drop"],  # connection closed without an answer
        keys[2]: ["slow:3.5"],  # past the client's 2 s timeout
        keys[3]: ["500", "503", "500"],  # still failing after max_retries
        keys[4]: ["empty", "empty", "empty"],  # empty captions are errors, never captions
        keys[5]: ["429"],
    }
    direct = captioner_judge.caption(requests_for(images))
    sleeps: list[float] = []
    with JudgeServer(captioner_judge, port=0, faults=parse_fault_plan(json.dumps(plan))) as server:
        results = client(server, sleeps, timeout_s=2.0, concurrency=8).caption(requests_for(images))
        assert server.stats["faults"] == 2 + 1 + 1 + 3 + 1
    by_key = {r.key: r for r in results}
    for index in (0, 1, 2, 5, 6, 7):
        assert by_key[f"img{index}"].ok and by_key[f"img{index}"].text == direct[index].text
    failed = by_key["img3"]
    assert not failed.ok and failed.text is None and "failed after 3 attempts" in failed.error
    assert "HTTP 500" in failed.error
    empty = by_key["img4"]
    assert not empty.ok and empty.text is None and empty.error == "the judge returned an empty caption"
    # retries waited with growing backoff: 0.05 * 2^attempt, half of it jittered
    assert len(sleeps) == 2 + 1 + 1 + 2 + 1
    assert all(0.025 <= d <= 0.1 for d in sleeps) and max(sleeps) >= 0.05  # img3's 2nd wait: 0.05-0.1 s


def test_api_key_is_sent_as_bearer_and_never_shown(captioner_judge, images, monkeypatch, caplog, tmp_path):
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("PUNC_SERVE_KEY", KEY)
    with JudgeServer(captioner_judge, port=0, api_key=KEY) as server:
        ok = client(server, api_key_env="PUNC_SERVE_KEY").caption(requests_for(images[:2]))
        assert all(r.ok for r in ok)
        assert server.stats["requests_with_bearer"] == 2
        monkeypatch.setenv("PUNC_SERVE_KEY", KEY + "-wrong")
        (denied,) = client(server, api_key_env="PUNC_SERVE_KEY").caption(requests_for(images[:1]))
        monkeypatch.delenv("PUNC_SERVE_KEY")
        (anonymous,) = client(server).caption(requests_for(images[:1]))
    for result in (denied, anonymous):
        assert not result.ok and "HTTP 401" in result.error and "(not retried)" in result.error
        assert KEY not in result.error
    assert all(KEY not in record.getMessage() for record in caplog.records)
    assert all(KEY not in str(v) for v in server.stats)


def test_concurrent_load_answers_match_their_own_images(captioner_judge):
    images = make_images(80, size=24)
    direct = captioner_judge.caption(requests_for(images))
    results: dict[str, object] = {}
    errors: list[BaseException] = []

    with JudgeServer(captioner_judge, port=0) as server:

        def worker(thread: int) -> None:
            try:
                judge = client(server, concurrency=1)
                mine = requests_for(images)[thread * 10 : (thread + 1) * 10]
                for request in mine:  # one request at a time per thread: 8 in flight overall
                    (result,) = judge.caption([request])
                    results[request.key] = result
                judge.close()
            except BaseException as exc:  # surfaced below
                errors.append(exc)

        threads = [threading.Thread(target=worker, args=(t,)) for t in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert server.stats["requests"] == 80
        assert server.stats["batches"] < 80, "concurrent requests should share batches"
    assert not errors
    for index, expected in enumerate(direct):
        got = results[f"img{index}"]
        assert got.ok and got.text == expected.text, index


def test_sampling_through_the_server_reproduces_the_backend(captioner_dir, images):
    from harness.judges.transformers_backend import TransformersJudge

    sampling = {"decoding": {"temperature": 1.0, "seed": 3}, "samples_per_image": 3}
    local = TransformersJudge(judge_config(captioner_dir, **sampling))
    reqs = [
        CaptionRequest(key=f"img{i}", image=images[i], prompt_text="p", sample_index=s)
        for i in range(3)
        for s in range(3)
    ]
    direct = local.caption(reqs)
    with JudgeServer(TransformersJudge(judge_config(captioner_dir)), port=0) as server:  # a greedy YAML:
        remote = client(server, **sampling).caption(reqs)  # the request's temperature and seed win
    assert [r.text for r in remote] == [r.text for r in direct]
    assert len({r.text for r in remote}) > 3


def test_chat_server_honours_the_request_instruction(chat_judge, images):
    with JudgeServer(chat_judge, port=0) as server:
        for instruction in ("what is in it ?", "describe this image ."):
            remote = client(server, instruction=instruction).caption(requests_for(images[:3]))
            items = [GenerationItem(image=image, instruction=instruction, seed=0) for image in images[:3]]
            direct = chat_judge.generate(items)
            assert [r.text for r in remote] == [o.text for o in direct]


def test_fault_plan_validation():
    assert parse_fault_plan('{"*": ["500", "drop", "slow:0.5", "empty", "ok"]}')["*"][2] == "slow:0.5"
    for bad in ("[1]", '{"*": ["explode"]}', '{"*": "500"}', "{"):
        with pytest.raises(Exception, match="fault plan"):
            parse_fault_plan(bad)


def test_cli_refuses_non_transformers_judges(tmp_path, capsys):
    yaml_path = tmp_path / "remote.yaml"
    yaml_path.write_text("name: remote\nbackend: openai\nmodel: m\nbase_url: http://127.0.0.1:1/v1\n")
    with pytest.raises(SystemExit) as info:
        main(["serve-judge", str(yaml_path), "--port", "0"])
    assert info.value.code == 2
    assert "backend: transformers" in capsys.readouterr().err


def test_cli_serves_with_faults_from_the_environment(captioner_dir, captioner_judge, images, tmp_path):
    yaml_path = tmp_path / "judge.yaml"
    yaml_path.write_text(f"name: tiny\nbackend: transformers\nmodel: {captioner_dir}\nmax_new_tokens: 12\n")
    env = {**os.environ, "PUNC_SERVE_JUDGE_FAULTS": '{"*": ["500"]}', "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "harness", "serve-judge", str(yaml_path), "--port", "0", "--device", "cpu"],
        cwd=REPO,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        banner = ""
        deadline = time.monotonic() + 60
        while "serving judge" not in banner and time.monotonic() < deadline:
            line = process.stderr.readline()
            if not line and process.poll() is not None:
                break
            banner += line
        assert "serving judge 'tiny'" in banner and "fault injection is ON" in process.stderr.readline()
        base_url = banner.split(" at ")[1].split(" ")[0]
        config = JudgeConfig(
            name="c", backend="openai", model="tiny", base_url=base_url, max_new_tokens=12, max_retries=1
        )
        judge = OpenAIJudge(config, sleep=lambda d: None)
        remote = judge.caption(requests_for(images[:2]))
        assert [r.text for r in remote] == [r.text for r in captioner_judge.caption(requests_for(images[:2]))]
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stderr.close()
    help_text = subprocess.run(
        [sys.executable, "-m", "harness", "serve-judge", "--help"], cwd=REPO, capture_output=True, text=True
    ).stdout
    assert "--port" in help_text and "--faults" not in help_text and "FAULTS" not in help_text


def test_seed_helper_is_stable():
    assert sample_seed(0, "k", 0) == sample_seed(0, "k", 0)
    assert len({sample_seed(0, "k", i) for i in range(50)}) == 50
    assert all(0 <= sample_seed(s, "k", 1) < 2**31 for s in range(20))


def test_a_request_queued_when_the_server_stops_is_answered_not_left_waiting(captioner_judge, images):
    """A worker blocked on a queued request kept the interpreter from exiting (CI hung after its summary)."""
    server = JudgeServer(captioner_judge, port=0)  # never started: nothing will ever take the queue
    try:
        item = GenerationItem(image=images[0], instruction="Describe this image.", seed=0)
        answers = []
        worker = threading.Thread(
            target=lambda: answers.append(
                server.submit(item, captioner_judge.config.decoding, max_new_tokens=8)
            ),
            daemon=True,
        )
        worker.start()
        time.sleep(0.3)
        assert worker.is_alive()  # waiting for the batcher
        server._stop.set()  # what stop() sets; stop() itself needs a started server
        worker.join(timeout=5)
        assert not worker.is_alive()
        assert answers and answers[0].error == "the judge server is shutting down"
    finally:
        server.httpd.server_close()
