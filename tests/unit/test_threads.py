"""The app decodes daemon answers in several worker threads at once (the first load, event re-checks, the log
reader). msgspec builds a type's decoding information on its first use, and two threads doing that at once crashed
the process (SIGSEGV, seen in the real app about one launch in six on a busy daemon). Each run here is a new process
(the first use happens once per process) whose threads decode the same kinds of documents from the same instant,
with a tiny switch interval so that they interleave."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "oom-killed.json"
RUNS = 12

PROGRAM = """
import json, sys, threading
sys.setswitchinterval(0.0001)
from troubleshoot.boundary import convert, decode
from troubleshoot.core import schema
doc = json.load(open(sys.argv[1]))["record"]
inspect, image = json.dumps(doc["inspect"]).encode(), json.dumps(doc["image"]).encode()
start = threading.Barrier(4)

def work():
    start.wait()
    for _ in range(3):
        decode(inspect, schema.ContainerInspect, "inspect")
        decode(image, schema.ImageInspect, "image")
        convert(doc["inspect"], schema.ContainerInspect, "inspect")

threads = [threading.Thread(target=work) for _ in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
"""


def test_threads_decoding_the_same_kinds_at_once_do_not_crash():
    codes = [subprocess.run([sys.executable, "-c", PROGRAM, str(FIXTURE)], cwd=ROOT, capture_output=True).returncode
             for _ in range(RUNS)]
    assert codes == [0] * RUNS, f"exit codes {codes} (-11: SIGSEGV)"
