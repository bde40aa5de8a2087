"""What `punc eval --num-processes` shows of its launcher's stderr: the processes' messages only."""

from __future__ import annotations

from harness.run.launch import accelerate_command, without_launcher_report

LAUNCHER_FAILURE = """\
error: diffusers pipeline '/x': no such local folder
W1130 22:43:56.246000 2215 torch/distributed/elastic/multiprocessing/api.py:1028] Sending process 2255 closing signal SIGTERM
E1130 22:43:56.416000 2215 torch/distributed/elastic/multiprocessing/api.py:1002] failed (exitcode: 2) local_rank: 0
Traceback (most recent call last):
  File "<frozen runpy>", line 198, in _run_module_as_main
  File "/venv/lib/python3.11/site-packages/accelerate/commands/launch.py", line 1423, in <module>
    main()
  File "/venv/lib/python3.11/site-packages/torch/distributed/run.py", line 1019, in run
    elastic_launch(
torch.distributed.elastic.multiprocessing.errors.ChildFailedError:
============================================================
harness FAILED
------------------------------------------------------------
  traceback : To enable traceback see: https://pytorch.org/docs/stable/elastic/errors.html
============================================================
"""

A_PROCESS_BUG = """\
Traceback (most recent call last):
  File "/repo/harness/run/evaluate.py", line 10, in run
    boom()
ZeroDivisionError: division by zero
"""


def test_the_launcher_traceback_and_report_are_dropped():
    shown = "".join(without_launcher_report(LAUNCHER_FAILURE.splitlines(keepends=True)))
    assert shown == "error: diffusers pipeline '/x': no such local folder\n"


def test_a_traceback_of_a_process_itself_is_kept():
    lines = ["loading\n", *A_PROCESS_BUG.splitlines(keepends=True), "after\n"]
    assert "".join(without_launcher_report(lines)) == "loading\n" + A_PROCESS_BUG + "after\n"


def test_processes_split_the_cores_and_run_the_harness_module():
    command = accelerate_command(4, 3, ["eval", "t.yaml"])
    assert command[command.index("--num_processes") + 1] == "4"
    assert command[command.index("--num_cpu_threads_per_process") + 1] == "3"
    assert command[-4:] == ["-m", "harness", "eval", "t.yaml"]
