#!/usr/bin/env python
"""Throughput of `punc serve-judge` on loopback: N concurrent clients, each sending R caption requests.

    python scripts/bench_serve_judge.py --clients 8 --requests 25            # a tiny random captioner
    python scripts/bench_serve_judge.py --judge judges/my-judge.yaml --clients 16

Starts the server in this process on 127.0.0.1 (a free port), runs the clients on threads through
the OpenAI-compatible backend, checks every answer is a caption, and prints requests/s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from harness.config.judge import JudgeConfig, load_judge  # noqa: E402
from harness.judges.base import CaptionRequest  # noqa: E402
from harness.judges.openai_backend import OpenAIJudge  # noqa: E402
from harness.judges.server import JudgeServer  # noqa: E402
from harness.judges.transformers_backend import TransformersJudge  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--judge", type=Path, help="judge YAML (backend: transformers); default: a tiny captioner"
    )
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (threads)")
    parser.add_argument("--requests", type=int, default=25, help="requests per client")
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=None, help="override the judge's batch_size")
    parser.add_argument("--device", default=None)
    parser.add_argument("--torch-threads", type=int, default=None, help="torch intra-op threads (CPU)")
    args = parser.parse_args()
    if args.torch_threads:
        import torch

        torch.set_num_threads(args.torch_threads)

    with tempfile.TemporaryDirectory() as tmp:
        if args.judge:
            config = load_judge(args.judge)
        else:
            sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
            from tiny_judges import build_tiny_captioner

            model = build_tiny_captioner(Path(tmp) / "tiny-captioner")
            config = JudgeConfig(name="tiny", backend="transformers", model=str(model), max_new_tokens=16)
        if args.batch_size:
            config = config.model_copy(update={"batch_size": args.batch_size})
        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
        from tiny_judges import make_images

        judge = TransformersJudge(config, device=args.device)
        images = make_images(args.clients * args.requests, size=args.image_size)
        with JudgeServer(judge, port=0) as server:
            client_config = JudgeConfig(
                name="bench",
                backend="openai",
                model=config.name,
                base_url=server.base_url,
                max_new_tokens=config.max_new_tokens,
                instruction=config.instruction,
                max_retries=0,
                timeout_s=300,
                concurrency=1,
            )
            # warm-up: first call pays lazy initialisation
            OpenAIJudge(client_config).caption([CaptionRequest(key="warm", image=images[0], prompt_text="")])
            latencies: list[float] = []
            failures: list[str] = []
            lock = threading.Lock()

            def run_client(index: int) -> None:
                client = OpenAIJudge(client_config)
                for r in range(args.requests):
                    number = index * args.requests + r
                    request = CaptionRequest(key=f"b{number}", image=images[number], prompt_text="")
                    started = time.perf_counter()
                    (result,) = client.caption([request])
                    elapsed = time.perf_counter() - started
                    with lock:
                        latencies.append(elapsed)
                        if not result.ok:
                            failures.append(result.error or "?")
                client.close()

            threads = [threading.Thread(target=run_client, args=(i,)) for i in range(args.clients)]
            started = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            wall = time.perf_counter() - started
            batches = server.stats["batches"]
            generate_s = server.stats["generate_ms"] / 1000
        judge.close()

    total = args.clients * args.requests
    print(f"judge: {config.name} ({judge.mode}, {judge.device}), batch_size {config.batch_size}")
    print(f"clients: {args.clients} x {args.requests} requests = {total}; failures: {len(failures)}")
    print(
        f"wall: {wall:.2f} s; throughput: {total / wall:.1f} requests/s; batches: {batches} "
        f"(mean {(total + 1) / max(batches, 1):.1f} requests/batch)"
    )
    print(f"model time: {generate_s:.2f} s of {wall:.2f} s wall ({generate_s / wall:.0%})")
    print(
        f"latency: median {statistics.median(latencies) * 1000:.0f} ms, "
        f"p95 {sorted(latencies)[int(0.95 * (len(latencies) - 1))] * 1000:.0f} ms"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
