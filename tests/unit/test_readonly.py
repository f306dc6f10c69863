"""The one read-only rule (core/readonly.py, Step.change_reason): one row per argv, then the playbook labels, then
every shipped playbook."""
import shlex
from pathlib import Path



import pytest

from troubleshoot.core.playbooks import Step, load_catalog, load_text
from troubleshoot.core.readonly import change_reason, is_read_only

SHIPPED_DIR = Path(__file__).resolve().parents[2] / "playbooks"

READ_ONLY = [
    "docker ps",
    "docker ps -a",
    "docker ps -aq",
    "docker ps -a --filter name={container} --format '{{.Names}} {{.Status}}'",
    "docker ps --filter publish={host_port} --format x",
    "docker container ls --all",
    "docker inspect {container}",
    "docker inspect --format '{{.State.Error}}' {container}",
    "docker inspect -f '{{.Id}}' a b",
    "docker inspect --format='{{.Id}}' {container}",
    "docker container inspect -s {container}",
    "docker logs {container}",
    "docker logs --tail 200 {container}",
    "docker logs -n5 {container}",
    "docker logs --tail=50 -t {container}",
    "docker logs -f {container}",  # unbounded but read-only: the runner's timeout ends it
    "docker events --filter container={container} --since 10m --until 0s",
    "docker port {container}",
    "docker port {container} 80/tcp",
    "docker top {container}",
    "docker stats --no-stream",
    "docker stats --no-stream {container}",
    "docker diff {container}",
    "docker history {image}",
    "docker history --no-trunc {image}",
    "docker image history -H {image}",
    "docker images",
    "docker image ls {image}",
    "docker image inspect --format '{{.Os}}/{{.Architecture}}' {image}",
    "docker version",
    "docker info --format '{{.Architecture}}'",
    "docker system df -v",
    "docker system info",
    "docker network ls",
    "docker network inspect bridge",
    "docker volume ls -q",
    "docker volume inspect v1",
    "free -m",
    "free -h --si",
    "df -h {docker_root}",
    "df -hT /",
    "ss -ltnp",
    "ss -s",
    "uname -a",
    "uptime",
    "cat /proc/meminfo",
    "cat /proc/pressure/memory /proc/loadavg",
    "cat /sys/fs/cgroup/memory.max",
]

CHANGES = [
    "docker rm -f {container}",
    "docker rm {container}",
    "docker container rm x",
    "docker run --rm -it --entrypoint sh {image}",
    "docker run --rm --entrypoint ldd {image} /app/server",
    "docker exec {container} env",
    "docker exec -it {container} sh",
    "docker update --memory=512m {container}",
    "docker restart {container}",
    "docker start {container}",
    "docker stop {container}",
    "docker kill {container}",
    "docker system prune",
    "docker image rm {image}",
    "docker image prune -a",
    "docker network rm n",
    "docker volume rm v",
    "docker cp {container}:/etc/passwd /tmp/x",
    "docker export -o /tmp/x.tar {container}",
    "docker save -o /tmp/x.tar {image}",
    "docker commit {container} x",
    "docker pull busybox",
    "docker",
    "docker -H tcp://10.0.0.1:2375 ps",  # an option before the subcommand
    "docker --config /tmp/x ps",
    "docker container",
    "docker ps --unknown",
    "docker ps extra-arg",
    "docker logs",  # needs its container
    "docker logs a b",
    "docker logs --tail",  # a value is missing
    "docker inspect -x {container}",
    "docker ps -aZ",  # an unknown letter in a group
    "docker top {container} -ef",
    "sh -c 'id > /tmp/pwned; echo ran | cat'",
    "bash -c id",
    "busybox rm -rf /",
    "env X=1 docker ps",
    "sudo docker ps",
    "rm -rf /tmp/x",
    "kill 1",
    "ldd /bin/ls",  # ldd may execute the binary it looks at
    "/usr/bin/free -m",  # only the bare, known tool
    "ss -K dst 10.0.0.1",  # -K kills sockets
    "ss -ltK",
    "ss -D /tmp/dump",  # writes a file
    "df --sync",
    "cat /etc/shadow",
    "cat /proc/../etc/shadow",
    "cat /proc/kmsg",  # reading it takes the messages from other readers
    "cat -",
    "cat",
    "free -s 1",
    "hostname newname",
    "unknown-tool --version",
]


@pytest.mark.parametrize("command", READ_ONLY)
def test_read_only(command):
    argv = shlex.split(command)
    assert change_reason(argv) == "" and is_read_only(argv)


@pytest.mark.parametrize("command", CHANGES)
def test_change(command):
    argv = shlex.split(command)
    assert change_reason(argv) and not is_read_only(argv)


def test_no_command_is_not_read_only():
    assert not is_read_only([])


def step(**kw) -> Step:
    return Step(title="t", **kw)


@pytest.mark.parametrize("kw, change", [
    (dict(run=("docker", "ps")), False),
    (dict(run=("docker", "ps"), read_only=False), True),  # the playbook's label: stricter
    (dict(run=("docker", "ps"), read_only=False, changes=True), True),
    (dict(run=("docker", "ps"), interactive=True), True),  # interactive is always a change
    (dict(run=("docker", "rm", "-f", "x")), True),  # read_only: true (the default) cannot loosen the rule
    (dict(run=("docker", "rm", "-f", "x"), read_only=True, changes=False), True),
    (dict(run=("sh", "-c", "id > /tmp/pwned; echo ran | cat")), True),
    (dict(run=("docker", "exec", "-it", "x", "sh"), interactive=True), True),
    (dict(run=()), False),  # nothing runs
])
def test_step_is_read_only_only_when_the_rule_and_the_playbook_both_say_so(kw, change):
    assert step(**kw).is_change is change


@pytest.mark.parametrize("kw, kind", [
    (dict(run=("docker", "ps")), "read-only"),
    (dict(run=("docker", "ps"), read_only=False), "may change"),
    (dict(run=("docker", "rm", "-f", "x")), "may change"),
    (dict(run=("docker", "start", "x"), read_only=False, changes=True), "changes"),
    (dict(run=("docker", "exec", "-it", "x", "sh"), interactive=True), "interactive"),
    (dict(dockerfile="FROM x\n"), "guide"),
])
def test_the_label_tells_the_truth(kw, kind):
    assert step(**kw).kind == kind


def test_hostile_playbook_steps_load_and_are_all_changes():
    pb, errors = load_text(HOSTILE_YAML, "hostile.yaml")
    assert not errors and pb is not None
    assert [s.is_change for s in pb.diagnose + pb.fix] == [True, True, True, True]


HOSTILE_YAML = """
id: hostile
title: hostile
severity: critical
symptom: s
root_cause: r
match: {signal: state, equals: exited}
diagnose:
  - docker rm -f victim
  - title: marked read_only false
    run: docker rm -f victim
    read_only: false
  - title: shell
    run: sh -c "id > /tmp/pwned; echo ran | cat"
fix:
  - title: changes false
    run: docker rm -f victim
    changes: false
"""

# Shipped steps the rule counts as changes although their playbook does not say `changes: true`. A new one must be
# a deliberate decision (adjust the rule, or accept that it asks first).
SHIPPED_CHANGES = {
    ("command-not-found", "diagnose", 2),  # docker run --rm -it --entrypoint sh {image} (interactive)
    ("crashed", "diagnose", 2),  # docker run --rm -it --entrypoint sh {image} (interactive)
    ("missing-env", "diagnose", 2),  # docker exec -it {container} env (interactive)
    ("missing-library", "diagnose", 1),  # docker run --rm -it --entrypoint sh {image} (interactive)
    ("missing-library", "verify", 0),  # docker run --rm --entrypoint ldd {image} /app/server (creates a container)
    ("unhealthy", "diagnose", 3),  # docker exec -it {container} sh (interactive)
    ("listens-on-localhost", "verify", 1),  # curl the published port (a request to the app: asks first)
    ("published-port-unused", "verify", 1),  # curl the published port (a request to the app: asks first)
}


def test_every_shipped_playbook_loads_and_its_read_only_steps_stay_read_only():
    catalog = load_catalog()
    assert not catalog.errors and {p.id for p in catalog} == {f.stem for f in SHIPPED_DIR.glob("*.yaml")}
    found = set()
    for pb in catalog:
        for section in ("diagnose", "fix", "verify"):
            for i, s in enumerate(getattr(pb, section)):
                if s.changes:
                    assert s.is_change and s.kind == "changes"
                elif s.run and s.is_change:
                    found.add((pb.id, section, i))
    assert found == SHIPPED_CHANGES
