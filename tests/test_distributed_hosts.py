"""Two hosts on one machine: the data-parallel job across two network namespaces joined by
a virtual Ethernet cable, started by MPICH's own launcher from a hosts list, with no ssh.

Each "host" is a network namespace with one end of a veth pair, addressed in
198.18.0.0/15 (the range set aside for network tests, RFC 2544) inside the namespaces
only; the machine's own network is untouched. ``mpiexec`` runs in the first namespace;
Hydra starts its proxy on each host through its ssh launcher, with ``-launcher-exec``
pointing at a five-line bootstrap (``BOOTSTRAP`` below) that, called as Hydra calls ssh
(``bootstrap HOST COMMAND``), runs the command inside that host's namespace instead of
logging in. Two processes on one kernel could still talk through shared memory, which
real hosts cannot, so the test makes MPI use the network alone (``MPIR_CVAR_NOLOCAL``,
``UCX_TLS=tcp``): cutting the cable (``ip link set ... down``) then cuts the job.

Checked: the job across the two hosts equals one process trained on the same global
batches; with the cable cut mid-run, every rank ends within its deadline with one line
saying so, and the checkpoint rank 0 wrote resumes on one host. Needs root (CI runs as
root) and ``ip`` from iproute2 (.ci/run installs it); skipped with the reason otherwise.
Namespaces are removed whatever happens.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import pytest

import distributed_programs as programs
from admm_mpi import ROOT, environment, mpiexec, require_mpi
from minigrad.checkpoint import CheckpointError, load_checkpoint

ADDRESSES = ("198.18.0.1", "198.18.0.2")
DEADLINE = 6  # seconds: MINIGRAD_DIST_TIMEOUT of the ranks
EPOCHS = 6

BOOTSTRAP = """#!/bin/sh
# Hydra calls this as it would call ssh: [options] HOST COMMAND... -> COMMAND inside HOST's namespace
while [ "${1#-}" != "$1" ]; do shift; done
host=$1; shift
exec ip netns exec "$(cat "$(dirname "$0")/namespace-$host")" sh -c "$*"
"""


def _ip(*args, namespace=None):
    prefix = ["ip", "-n", namespace] if namespace else ["ip"]
    subprocess.run([*prefix, *args], check=True, capture_output=True, text=True, timeout=30)


def _skip_unless_possible():
    require_mpi()
    if os.geteuid() != 0:
        pytest.skip("needs root to make network namespaces (CI runs as root)")
    if shutil.which("ip") is None:
        pytest.skip("needs `ip` from iproute2 (apt-get install iproute2; .ci/run does)")


@pytest.fixture
def hosts(tmp_path):
    """Two namespaces joined by a veth pair (each end named mg0 inside its namespace);
    yields the bootstrap folder. Removed afterwards, with anything still running in them."""
    _skip_unless_possible()
    tag = f"mg{os.getpid() % 100000}"
    namespaces = [f"{tag}-host{i}" for i in range(2)]
    made = []
    try:
        for namespace in namespaces:
            try:
                _ip("netns", "add", namespace)
            except subprocess.CalledProcessError as error:
                pytest.skip(f"`ip netns add` is not allowed here: {error.stderr.strip()}")
            made.append(namespace)
        _ip("link", "add", f"{tag}a", "type", "veth", "peer", "name", f"{tag}b")
        for namespace, end, address in zip(namespaces, (f"{tag}a", f"{tag}b"), ADDRESSES):
            _ip("link", "set", end, "netns", namespace)
            _ip("link", "set", end, "name", "mg0", namespace=namespace)
            _ip("addr", "add", f"{address}/24", "dev", "mg0", namespace=namespace)
            _ip("link", "set", "lo", "up", namespace=namespace)
            _ip("link", "set", "mg0", "up", namespace=namespace)
            (tmp_path / f"namespace-{address}").write_text(namespace)
        bootstrap = tmp_path / "bootstrap"
        bootstrap.write_text(BOOTSTRAP)
        bootstrap.chmod(0o755)
        yield dict(bootstrap=bootstrap, namespaces=namespaces)
    finally:
        for namespace in made:
            pids = subprocess.run(["ip", "netns", "pids", namespace], capture_output=True, text=True).stdout.split()
            for pid in pids:  # processes this test started in its namespaces
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except ProcessLookupError:
                    pass
            subprocess.run(["ip", "netns", "del", namespace], capture_output=True)
        subprocess.run(["ip", "link", "del", f"{tag}a"], capture_output=True)  # if it never left this namespace


def _across(hosts, command, timeout):
    """``mpiexec`` in the first namespace, one rank per host, over mg0 alone."""
    env = dict(environment(timeout), MINIGRAD_DIST_TIMEOUT=str(DEADLINE), MINIGRAD_DIST_STARTUP_TIMEOUT="30",
               MPIR_CVAR_NOLOCAL="1", UCX_TLS="tcp,self", UCX_NET_DEVICES="mg0")
    # Hydra hands mpiexec's environment to every rank, on every host
    launcher = ["ip", "netns", "exec", hosts["namespaces"][0], mpiexec(), "-launcher", "ssh", "-launcher-exec",
                str(hosts["bootstrap"]), "-hosts", ",".join(ADDRESSES), "-ppn", "1", "-n", "2", "-iface", "mg0"]
    return subprocess.Popen([*launcher, *command], cwd=ROOT, env=env, text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_two_hosts_train_as_one_process_and_a_cut_link_ends_the_job_cleanly(hosts, tmp_path):
    # 1. across the two hosts, DDP equals one process on the same global batches (rank 0 checks)
    program = tmp_path / "ddp.py"
    program.write_text(programs.DDP_EQUALS_ONE_PROCESS)
    job = _across(hosts, [sys.executable, "-m", "mpi4py", str(program), "22", "4"], timeout=60)
    out, err = job.communicate(timeout=90)
    assert job.returncode == 0 and "ddp equals one process" in out, out + err

    # 2. the main job across the hosts; the cable is cut after its first checkpoint
    folder = tmp_path / "run"
    rank_program = (f"echo $$ > {tmp_path}/pid$PMI_RANK; exec {sys.executable} -m mpi4py -m minigrad --quick "
                    f"--hidden 16 --epochs {EPOCHS} --no-progress --out {folder} 2> {tmp_path}/stderr$PMI_RANK")
    job = _across(hosts, ["sh", "-c", rank_program], timeout=120)
    try:
        started = time.monotonic()
        while True:
            assert job.poll() is None and time.monotonic() - started < 60, job.communicate()
            try:
                if load_checkpoint(folder / "checkpoint.npz")["epoch"] >= 1:
                    break
            except (CheckpointError, OSError):
                pass
            time.sleep(0.05)
        _ip("link", "set", "mg0", "down", namespace=hosts["namespaces"][1])
        cut = time.monotonic()
        pids = [int((tmp_path / f"pid{r}").read_text()) for r in range(2)]
        while any(_alive(pid) for pid in pids) and time.monotonic() - cut < DEADLINE + 20:
            time.sleep(0.1)
        ended = time.monotonic() - cut
        assert not any(_alive(pid) for pid in pids), "a rank outlived its deadline after the cut"
        assert DEADLINE <= ended < DEADLINE + 20, ended
        for r in range(2):  # each rank, on its own host, said why in one line
            lines = (tmp_path / f"stderr{r}").read_text().splitlines()
            assert len(lines) == 1 and re.fullmatch(f"python -m minigrad: rank {r}: no progress on .* within "
                                                    f"{DEADLINE} s; another rank died or stalled", lines[0]), lines
        # mpiexec cannot reach the cut-off host's proxy; with the cable back it hears of both ends
        _ip("link", "set", "mg0", "up", namespace=hosts["namespaces"][1])
        job.communicate(timeout=30)
        assert job.returncode != 0
    finally:
        if job.poll() is None:
            os.killpg(job.pid, signal.SIGKILL)
            job.communicate()

    # 3. the checkpoint rank 0 wrote resumes on one host (one process)
    epoch = load_checkpoint(folder / "checkpoint.npz")["epoch"]
    assert 1 <= epoch < EPOCHS
    resumed = subprocess.run([sys.executable, "-m", "minigrad", "--resume", str(folder), "--no-progress"],
                             cwd=ROOT, env=dict(environment(120)), capture_output=True, text=True, timeout=150)
    assert resumed.returncode == 0 and f"after {EPOCHS} epochs" in resumed.stdout, resumed.stdout + resumed.stderr
    assert json.loads((folder / "summary.json").read_text())["epochs"] == EPOCHS
