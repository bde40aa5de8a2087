#!/usr/bin/env python
"""Throw hostile inputs at the installed `punc` and count what went wrong (issue 18's closing figures).

    python scripts/hostile_inputs.py                 # about 25 minutes on 2 CPU cores shared by 7 developers
    python scripts/hostile_inputs.py --mutations 300 # more random task-file mutations

Every input runs in a subprocess (or against a real `punc serve-judge` / `punc leaderboard serve` on
loopback) with a time limit. Counted: inputs tried, tracebacks (a 'Traceback' in any output, or a 5xx
or no answer from a server), hangs (time limit passed), secrets found in outputs (a planted API key
found in stdout, stderr, or any file written), items lost (lines of images/captions/scores, backups
included, that a run directory had before and not after). Writes benchmarks/hostile_inputs.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PUNC = str(Path(sys.executable).parent / "punc")
KEY = "sk-hostile-Qm58-never-in-output-0193"
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1", "PUNC_HOSTILE_KEY": KEY}
BILLION_LAUGHS = "\n".join(
    ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]" for i in range(8)]
)


class Tally:
    def __init__(self) -> None:
        self.counts = {"inputs": 0, "tracebacks": 0, "hangs": 0, "secrets_in_outputs": 0, "items_lost": 0}
        self.failures: list[str] = []

    def bad(self, kind: str, label: str, detail: str = "") -> None:
        self.counts[kind] += 1
        self.failures.append(f"{kind}: {label} {detail[:300]}")

    def cli(self, label: str, *args: str, timeout: float = 240, cwd: Path | None = None, env=None):
        """Run `punc ARGS`; count it; return the CompletedProcess or None on a hang."""
        self.counts["inputs"] += 1
        try:
            done = subprocess.run(
                [PUNC, *args], capture_output=True, text=True, timeout=timeout, cwd=cwd, env=env or ENV
            )
        except subprocess.TimeoutExpired:
            self.bad("hangs", label)
            return None
        output = done.stdout + done.stderr
        if "Traceback" in output:
            self.bad("tracebacks", label, output[-300:])
        elif done.returncode not in (0, 2):
            self.bad("tracebacks", label, f"exit {done.returncode}: {output[-300:]}")
        if KEY in output or KEY.encode("unicode_escape").decode() in output:
            self.bad("secrets_in_outputs", label)
        return done


def files_with_key(folder: Path) -> list[Path]:
    return [
        p for p in folder.rglob("*") if p.is_file() and not p.is_symlink() and KEY.encode() in p.read_bytes()
    ]


def log_lines(run: Path) -> int:
    return sum(
        p.read_bytes().count(b"\n")
        for pattern in ("images.jsonl", "captions.jsonl", "scores*.jsonl*")
        for p in run.glob(pattern)
        if p.is_file() and not p.is_symlink()
    )


# ---------------------------------------------------------------------------------------------- files


def file_inputs(tally: Tally, work: Path, mutations: int, seed: int) -> None:
    cases = {
        "laughs.yaml": BILLION_LAUGHS,
        "laughs-task.yaml": "lol:\n"
        + "".join(f"  {line}\n" for line in BILLION_LAUGHS.splitlines())
        + "name: *i\nprompts: p.jsonl",
        "deep.yaml": "a: " + "[" * 5000 + "]" * 5000,
        "deep-map.yaml": "a:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 300)),
        "digits.yaml": "name: t\nprompts: p.jsonl\nseed: " + "9" * 5000,
        "seed-1e26.yaml": "name: t\nprompts: p.jsonl\nseed: 1.0e+26",
        "seed-int.yaml": "name: t\nprompts: p.jsonl\nseed: " + "1" * 30,
        "dup.yaml": "name: t\nprompts: p.jsonl\nname: u",
        "tags.yaml": "name: !!python/object/apply:os.system ['true']\nprompts: p.jsonl",
        "newline-name.yaml": 'name: "t\\n"\nprompts: p.jsonl',
        "escape.yaml": "name: t\nprompts: ../../../../etc/passwd",
        "deep.jsonl": '{"id": "a", "text": ' + "[" * 5000 + "]" * 5000 + "}",
        "digits.jsonl": '{"id": "a", "text": "x", "labels": {"n": ' + "7" * 5000 + "}}",
        "dup.jsonl": '{"id": "a", "text": "x", "text": "y"}',
        "newline-id.jsonl": json.dumps({"id": "a\n", "text": "x"}),
        "dotdot-id.jsonl": json.dumps({"id": "../x", "text": "x"}),
        "nan.jsonl": '{"id": "a", "text": NaN}',
    }
    paths = []
    for name, text in cases.items():
        (work / name).write_text(text + "\n")
        paths.append(work / name)
    (work / "bad-utf8.yaml").write_bytes(b"name: \xff\xfe\n")
    paths.append(work / "bad-utf8.yaml")
    os.mkfifo(work / "fifo.yaml")
    paths += [work / "fifo.yaml", work, Path("/dev/zero")]
    (work / "p.jsonl").write_text('{"id": "a", "text": "a red circle"}\n')
    valid = (REPO / "tasks" / "world_default.yaml").read_bytes()
    rng = random.Random(seed)
    for number in range(mutations):
        data = bytearray(valid)
        for _ in range(rng.randint(1, 8)):
            position = rng.randrange(len(data))
            choice = rng.random()
            if choice < 0.4:
                data[position] = rng.randrange(256)
            elif choice < 0.7:
                data[position:position] = rng.choice(
                    [b"&a ", b"*a", b"[", b"{", b"\n  - ", b": ", b"!!", b"\x00"]
                )
            else:
                del data[position : position + rng.randint(1, 20)]
        path = work / f"mutant{number}.yaml"
        path.write_bytes(bytes(data))
        paths.append(path)
    for path in paths:
        tally.cli(f"validate {path.name}", "validate", str(path), timeout=60)


# ---------------------------------------------------------------------------------------------- runs


def make_workspace(work: Path) -> Path:
    from PIL import Image

    ws = work / "ws"
    (ws / "images").mkdir(parents=True)
    rows = [{"id": f"p{i}", "text": f"a {c} circle"} for i, c in enumerate(("red", "blue", "green"))]
    (ws / "p.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (ws / "t.yaml").write_text("name: hostile\nprompts: p.jsonl\nimages_per_prompt: 1\nscorers: [rouge1]\n")
    for i in range(3):
        (ws / "images" / f"p{i}").mkdir()
        Image.new("RGB", (32, 32), (80 * i, 40, 200)).save(ws / "images" / f"p{i}" / "0.png")
    (ws / "remote.yaml").write_text(
        "name: remote\nbackend: openai\nmodel: m\nbase_url: http://127.0.0.1:9/v1\napi_key_env: PUNC_BAD_KEY\n"
    )
    return ws


def eval_args(ws: Path, out: Path, *extra: str) -> list[str]:
    judge = str(REPO / "judges" / "world.yaml")
    return ["eval", str(ws / "t.yaml"), "-g", str(ws / "images"), "-j", judge, "-o", str(out), "-q", *extra]


def run_inputs(tally: Tally, work: Path) -> Path:
    ws = make_workspace(work)
    base = work / "base-run"
    done = tally.cli("first eval", *eval_args(ws, base))
    if done is None or done.returncode != 0 or not (base / "results.json").is_file():
        raise SystemExit(f"could not make the base run: {done and done.stderr[-2000:]}")

    def edit_log(name: str, change) -> callable:
        def apply(run: Path) -> None:
            lines = (run / name).read_text().splitlines()
            lines[1] = change(json.loads(lines[1]))
            (run / name).write_text("\n".join(lines) + "\n")

        return apply

    def write(name: str, data: bytes) -> callable:
        return lambda run: (run / name).write_bytes(data)

    def bad_utf8(run: Path) -> None:
        lines = (run / "captions.jsonl").read_bytes().split(b"\n")
        lines[1] = lines[1].replace(b"judge", b"ju\xffdge")
        (run / "captions.jsonl").write_bytes(b"\n".join(lines))

    def full_disk(run: Path) -> None:
        (run / "events.jsonl").unlink()
        (run / "events.jsonl").symlink_to("/dev/full")

    cases = {
        "null caption, --rescore": (edit_log("captions.jsonl", lambda r: json.dumps({**r, "caption": None})), ["--rescore"]),
        "index as text": (edit_log("captions.jsonl", lambda r: json.dumps({**r, "index": "0"})), []),
        "missing image_hash": (edit_log("images.jsonl", lambda r: json.dumps({k: v for k, v in r.items() if k != "image_hash"})), []),
        "hash path escape": (edit_log("images.jsonl", lambda r: json.dumps({**r, "image_hash": "../../../etc/passwd"})), []),
        "score values list": (edit_log("scores.jsonl", lambda r: json.dumps({**r, "values": [1]})), []),
        "failures wrong types": (write("failures.jsonl", b'{"stage": "caption", "error": 1, "prompt_id": ["p"]}\n{}\n'), []),
        "bad utf-8 in a log": (bad_utf8, []),
        "deep JSON in a log": (edit_log("captions.jsonl", lambda r: "[" * 50000 + "]" * 50000), []),
        "huge integer in a log": (edit_log("captions.jsonl", lambda r: '{"index": ' + "9" * 5000 + "}"), []),
        "run.json not JSON": (write("run.json", b"not json"), []),
        "run.json a list": (write("run.json", b"[1]"), []),
        "run.json deep": (write("run.json", b"{" * 100000), []),
        "full disk": (full_disk, []),
        "rescore twice (1)": (lambda run: None, ["--rescore"]),
    }  # fmt: skip
    for label, (change, extra) in cases.items():
        run = work / f"run-{re.sub(r'[^a-z0-9]+', '-', label)}"
        shutil.copytree(base, run, symlinks=True)
        before = log_lines(run)
        change(run)
        tally.cli(label, *eval_args(ws, run, *extra))
        if label == "rescore twice (1)":
            tally.cli("rescore twice (2)", *eval_args(ws, run, "--rescore"))
        lost = before - log_lines(run)
        if lost > 0 and label != "full disk":
            tally.bad("items_lost", label, f"{lost} lines")
    # the lock: a second process while the first one holds the run
    run = work / "run-locked"
    shutil.copytree(base, run)
    before = log_lines(run)
    (run / "scores.jsonl").unlink()  # both writers have work to do
    first = subprocess.Popen(
        [PUNC, *eval_args(ws, run)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV
    )
    time.sleep(1.0)  # either may take the run first; only one may write it
    tally.cli("second writer", *eval_args(ws, run), timeout=240)
    tally.counts["inputs"] -= 1  # the pair counts as one input
    first.communicate(timeout=240)
    scores = (run / "scores.jsonl").read_text().splitlines() if (run / "scores.jsonl").exists() else []
    if len(scores) != len(set(scores)):
        tally.bad(
            "items_lost", "two writers duplicated work", f"{len(scores) - len(set(scores))} duplicate lines"
        )
    if log_lines(run) < before - 3:
        tally.bad("items_lost", "second writer")
    # where a run may go, and a key with a carriage return
    cwd = work / "cwd" / "a" / "b"
    cwd.mkdir(parents=True)
    tally.cli("--name ../../../x", *eval_args(ws, cwd / "unused"), "--name", "../../../escaped", cwd=cwd)
    if (work / "cwd" / "escaped").exists() or (cwd / "escaped").exists():
        tally.bad("tracebacks", "--name escaped runs/")
    blocker = work / "a-file"
    blocker.write_text("x")
    tally.cli("--out under a file", *eval_args(ws, blocker / "run"))
    remote = [*eval_args(ws, work / "run-key"), "-j", str(ws / "remote.yaml")]
    for tail in ("\r", "\n", "\r\n", "\t"):
        env = {**ENV, "PUNC_BAD_KEY": KEY + tail}
        tally.cli(f"API key ending in {tail!r}", *remote, env=env)
    if files_with_key(work):
        tally.bad("secrets_in_outputs", "a file under the work folder", str(files_with_key(work)[:3]))
    return base


# ---------------------------------------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_port(port: int, seconds: float = 180) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
        time.sleep(0.3)
    return False


def raw(port: int, data: bytes, timeout: float = 30) -> bytes | None:
    """Send bytes, half-close, read the whole answer; None if the read timed out (a hang)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.sendall(data)
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_WR)
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
            return answer
    except TimeoutError:
        return None
    except ConnectionResetError:
        return b""


def serve_judge_inputs(tally: Tally, work: Path) -> None:
    port = free_port()
    server = subprocess.Popen(
        [PUNC, "serve-judge", str(REPO / "judges" / "world.yaml"), "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV,
    )  # fmt: skip
    try:
        if not wait_port(port):
            raise SystemExit("serve-judge did not start")

        def post(body: bytes, headers: str = "") -> bytes:
            if "Content-Length" not in headers:
                headers += f"Content-Length: {len(body)}\r\n"
            start = "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            return (start + headers + "\r\n").encode() + body

        import base64
        import io

        from PIL import Image

        buffer = io.BytesIO()
        Image.new("RGB", (32, 32), (10, 200, 30)).save(buffer, format="PNG")
        url = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()

        def body(**fields) -> bytes:
            parts = [{"type": "image_url", "image_url": {"url": url}}, {"type": "text", "text": "hi"}]
            return json.dumps(
                {"messages": [{"role": "user", "content": parts}], "max_tokens": 4, **fields}
            ).encode()

        requests = [post(b"{}", "Content-Length: abc\r\n"), post(b"{}", "Content-Length: -1\r\n"),
                    post(b"", f"Content-Length: {(64 << 20) + 1}\r\n"), post(b"{}", "Transfer-Encoding: chunked\r\n"),
                    post(b"[" * 100000 + b"]" * 100000), post(b'{"seed": ' + b"9" * 5000 + b"}"),
                    post(b'{"messages": [], "messages": []}'), post(b"\xff\xfe"), post(b"null"), post(b"")]  # fmt: skip
        for fields in ({"seed": 2**70}, {"seed": -1}, {"seed": 1e26}, {"seed": True}, {"max_tokens": 10**30},
                       {"max_tokens": 1e26}, {"temperature": "x"}, {"top_k": 2.5}, {"top_p": 0}):  # fmt: skip
            requests.append(post(body(**fields)))
        rng = random.Random(0)
        valid = body()
        for _ in range(40):
            data = bytearray(valid)
            for _ in range(rng.randint(1, 6)):
                data[rng.randrange(len(data))] = rng.randrange(256)
            requests.append(post(bytes(data)))
        for number, request in enumerate(requests):
            tally.counts["inputs"] += 1
            answer = raw(port, request)
            if answer is None:
                tally.bad("hangs", f"serve-judge request {number}")
            elif not answer.startswith(b"HTTP/1.") or answer.split(b" ", 2)[1].startswith(b"5"):
                tally.bad("tracebacks", f"serve-judge request {number}", repr(answer[:120]))
        tally.counts["inputs"] += 1  # slowloris: one byte per 0.5 s must be cut off, not held
        with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
            started = time.monotonic()
            try:
                for byte in b"POST /v1/chat/completions HTTP/1.1\r\nX: " + b"a" * 400:
                    sock.sendall(bytes([byte]))
                    time.sleep(0.5)
                tally.bad("hangs", "slowloris held for 200 s")
            except OSError:
                if time.monotonic() - started > 60:
                    tally.bad("hangs", "slowloris held over 60 s")
        tally.counts["inputs"] += 1  # 50 simultaneous connections: none reset
        import threading

        barrier, statuses = threading.Barrier(50), []

        def one() -> None:
            barrier.wait()
            answer = raw(port, b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            statuses.append(answer[:12] if answer else answer)

        threads = [threading.Thread(target=one) for _ in range(50)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        if sum(1 for s in statuses if not s or not s.startswith(b"HTTP/1.1 200")) > 0:
            tally.bad("tracebacks", "50 concurrent clients", f"{statuses}")
    finally:
        server.terminate()
        _, err = server.communicate(timeout=30)
        if "Traceback" in err:
            tally.bad("tracebacks", "serve-judge stderr", err[-300:])


def board_inputs(tally: Tally, work: Path, base: Path) -> None:
    boards = work / "boards"
    done = tally.cli(
        "publish", "publish", str(base), "--board", "b", "--boards-dir", str(boards), "--new-board"
    )
    if done is None or done.returncode != 0:
        raise SystemExit(f"publish failed: {done and done.stderr[-1000:]}")
    template = boards / "b"
    outside = work / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("OUTSIDE-THE-BOARD\n")
    edits = {
        "edited results": ("results.json", lambda d: d.replace(b'"complete": true', b'"complete": false')),
        "results not JSON": ("results.json", lambda d: b"nope"),
        "results deep": ("results.json", lambda d: b"[" * 100000),
        "manifest wrong types": ("manifest.jsonl", lambda d: b'{"prompt_id": ["p"], "index": {}}\n'),
        "bundle.json files gone": ("bundle.json", lambda d: b'{"files": 3}'),
        "bundle.json bad utf-8": ("bundle.json", lambda d: b"\xff"),
    }
    for label, (name, change) in edits.items():
        copy = work / f"boards-{re.sub(r'[^a-z0-9]+', '-', label)}"
        shutil.copytree(boards, copy)
        bundle = next((copy / "b" / "runs").iterdir())
        (bundle / name).write_bytes(change((bundle / name).read_bytes()))
        done = tally.cli(f"build: {label}", "leaderboard", "build", "b", "--boards-dir", str(copy))
        if done is not None and done.returncode == 0:
            tally.bad("tracebacks", f"build accepted: {label}")
    linked = work / "run-linked-images"
    shutil.copytree(base, linked)
    folder = next(p for p in (linked / "images").iterdir() if p.is_dir())
    shutil.move(str(folder), outside / folder.name)
    folder.symlink_to(outside / folder.name, target_is_directory=True)
    done = tally.cli("publish through a linked images/XX", "publish", str(linked), "--board", "c",
                     "--boards-dir", str(work / "boards-c"), "--new-board")  # fmt: skip
    if done is not None and done.returncode == 0:
        tally.bad("tracebacks", "publish followed a linked image folder")
    # serve: links, hidden files and encoded escapes
    bundle = next((template / "runs").iterdir())
    (bundle / "images" / "evil.png").symlink_to(outside / "secret.txt")
    (template / "linked").symlink_to(outside, target_is_directory=True)
    port = free_port()
    server = subprocess.Popen(
        [PUNC, "leaderboard", "serve", "b", "--boards-dir", str(boards), "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV,
    )  # fmt: skip
    try:
        if not wait_port(port, 60):
            raise SystemExit("leaderboard serve did not start")
        for path in (f"/runs/{bundle.name}/images/evil.png", "/linked/secret.txt", "/linked%2Fsecret.txt",
                     "/.lock", "/%2Elock", "/runs%2F..%2F.lock", "/runs/%2e%2e/.lock", "/board.json/../.lock",
                     "/..%2F..%2Foutside%2Fsecret.txt", "/%2e%2e/%2e%2e/outside/secret.txt"):  # fmt: skip
            tally.counts["inputs"] += 1
            answer = raw(port, f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
            if answer is None:
                tally.bad("hangs", f"serve {path}")
            elif b"OUTSIDE-THE-BOARD" in answer or not answer.startswith(b"HTTP/1.0 404"):
                tally.bad("tracebacks", f"serve {path} was not refused", repr(answer[:80]))
    finally:
        server.terminate()
        _, err = server.communicate(timeout=30)
        if "Traceback" in err:
            tally.bad("tracebacks", "leaderboard serve stderr", err[-300:])


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mutations", type=int, default=80, help="random byte mutations of a task file")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "hostile_inputs.json")
    args = parser.parse_args()
    tally = Tally()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="punc-hostile-") as tmp:
        work = Path(tmp)
        (work / "files").mkdir()
        file_inputs(tally, work / "files", args.mutations, args.seed)
        base = run_inputs(tally, work)
        serve_judge_inputs(tally, work)
        board_inputs(tally, work, base)
    record = {
        "script": "scripts/hostile_inputs.py",
        "mutations": args.mutations,
        "seed": args.seed,
        **tally.counts,
        "seconds": round(time.monotonic() - started, 1),
        "problems": tally.failures,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps({k: v for k, v in record.items() if k != "problems"}))
    for line in tally.failures:
        print("  " + line)
    return 1 if tally.failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
