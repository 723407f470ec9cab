"""chaos: kill -9 of podd, of a pod's monitor or of a container at a random moment of a
create, a delete, a container restart or an exec, many times. After each round every pod
reaches its desired state: an acknowledged create is there, running and ready, once; an
acknowledged delete stays deleted; an unanswered request settles one way or the other; one
monitor per pod; no zombie; no client left hanging. At the end no process, mount, cgroup,
file or fd is left, and no pod process holds an API socket (issue 9 items 4, 5, 9, 14, 15)."""
import os
import random
import signal
import subprocess
import threading
import time

from inventory import Sample, cgroup_base, expect_no_errors_nor_leaks, inherited_api_sockets, monitors_of, zombie_children
from outcome import Outcome
from stand import BIN, Stand, sleep_pod, wait_for

ACTIONS = ("create", "delete", "restart", "exec")
TARGETS = ("podd", "monitor", "container")


def _monitor_of(podd, uid):
    tag = f"/pods/{uid}".encode()
    for pid in monitors_of(podd):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if tag in f.read():
                    return pid
        except OSError:
            pass
    return None


def _container_pid(uid):
    base = cgroup_base()
    procs = base / uid / "c0" / "cgroup.procs" if base else None
    try:
        pids = [int(p) for p in procs.read_text().split()] if procs else []
    except OSError:
        return None
    return pids[0] if pids else None


def _restarts(podd, name):
    pod = podd.pod(name)
    st = (pod or {}).get("status", {}).get("containerStatuses", [])
    return sum(s.get("restartCount", 0) for s in st) if pod else None


def _ready(pod):
    st = pod["status"].get("containerStatuses", [])
    return bool(st) and all("running" in s.get("state", {}) and s.get("ready") for s in st)


class Round:
    """One action on one pod, run in a thread so that the kill can land in the middle of it.
    `answer` is the HTTP status or podctl's exit status; None when no answer came."""

    def __init__(self, podd, action, name, uid):
        self.podd, self.action, self.name, self.uid = podd, action, name, uid
        self.answer = None
        self.hung = False
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        try:
            if self.action == "create":
                self.answer = self.podd.create(sleep_pod(self.name), ).status
            elif self.action == "delete":
                self.answer = self.podd.request(
                    "DELETE", f"/api/v1/namespaces/default/pods/{self.name}?gracePeriodSeconds=0", timeout=20).status
            elif self.action == "restart":
                pid = _container_pid(self.uid)
                if pid:
                    os.kill(pid, signal.SIGKILL)
                self.answer = 0
            elif self.action == "exec":
                r = subprocess.run([str(BIN / "podctl"), "exec", self.name, "--", "sh", "-c", "sleep 0.2; echo done"],
                                   capture_output=True, text=True, timeout=20,
                                   env=dict(os.environ, PODD_SOCKET=self.podd.socket))
                self.answer = r.returncode
        except subprocess.TimeoutExpired:
            self.hung = True
        except (OSError, ConnectionError):
            self.answer = None
        except Exception as e:  # noqa: BLE001 - http.client's own errors when podd dies mid-answer
            if "timed out" in str(e):
                self.hung = True

    def start(self):
        self.thread.start()

    def join(self):
        self.thread.join(30)
        if self.thread.is_alive():
            self.hung = True


def run(scale, tar):
    rounds = scale.pick(12, 80)
    initial = scale.pick(4, 10)
    seed = int(os.environ.get("STRESS_SEED", random.randrange(1 << 30)))
    rng = random.Random(seed)
    out = Outcome("chaos")
    out.figure("seed", seed)
    lost, doubled, stuck, resurrected, hung, crashes = [], [], [], [], [], []
    with Stand(tar, "chaos") as podd:
        fd_baseline = Sample.of(podd).fds
        desired = {}  # name -> "present" | "absent" | "either"
        # A pod created while another client holds a connection (a watch): the monitor podd
        # starts must not inherit it (issue 9 item 15).
        from harness import UnixHTTPConnection
        conn = UnixHTTPConnection(podd.socket, timeout=30)
        conn.request("GET", "/api/v1/namespaces/default/pods?watch=true")
        conn.getresponse()
        out.expect(podd.create(sleep_pod("watched")).status == 201, "create refused")
        podd.wait_running("watched")
        inherited = inherited_api_sockets(podd)
        out.expect(not inherited, f"{len(inherited)} API socket(s) held by a pod's processes: {inherited[:2]}")
        conn.close()
        podd.request("DELETE", "/api/v1/namespaces/default/pods/watched?gracePeriodSeconds=0")
        podd.wait_gone("watched")
        for i in range(initial):
            if podd.create(sleep_pod(f"chaos-{i}")).status == 201:
                desired[f"chaos-{i}"] = "present"
        next_name = initial
        kills = {t: 0 for t in TARGETS}
        for n in range(rounds):
            present = [k for k, v in desired.items() if v == "present"]
            action = rng.choice(ACTIONS if present else ("create",))
            if action == "create":
                name = f"chaos-{next_name}"
                next_name += 1
            else:
                name = rng.choice(present)
            uid = (podd.pod(name) or {}).get("metadata", {}).get("uid") if action != "create" else None
            target = rng.choice(TARGETS)
            victim_pod = rng.choice(present) if present and rng.random() < 0.5 else name
            victim_uid = (podd.pod(victim_pod) or {}).get("metadata", {}).get("uid")
            victim = None
            if target == "monitor" and victim_uid:
                victim = _monitor_of(podd, victim_uid)
            elif target == "container" and victim_uid:
                victim = _container_pid(victim_uid)
            # A kill's effect reaches the pod's status a moment later: settling must not take
            # the ready status from before it for the outcome (then see the restart's backoff
            # and call the pod stuck). The restart count of each pod killed into says when.
            hit = {p for p in (name if action == "restart" else None,
                               victim_pod if target != "podd" and victim else None) if p}
            restarts_before = {p: _restarts(podd, p) for p in hit}
            r = Round(podd, action, name, uid)
            r.start()
            time.sleep(rng.uniform(0, 0.03))
            if target == "podd":
                podd.kill9()
                kills["podd"] += 1
            elif victim:
                try:
                    os.kill(victim, signal.SIGKILL)
                    kills[target] += 1
                except ProcessLookupError:
                    pass
            if not podd.alive():
                if target != "podd":
                    crashes.append(f"round {n}: podd exited by itself ({podd.crashed()})")
                podd.start()
            r.join()
            if r.hung:
                hung.append(f"round {n}: {action} {name} with {target} killed")
            if action == "create":
                desired[name] = "present" if r.answer == 201 else ("either" if r.answer is None else "absent")
            elif action == "delete":
                desired[name] = "absent" if r.answer == 200 else ("either" if r.answer is None else "present")
            for p, before in restarts_before.items():
                if before is not None and desired.get(p) == "present":
                    try:
                        wait_for(lambda p=p, before=before: (_restarts(podd, p) or 0) > before or podd.pod(p) is None,
                                 timeout=10, interval=0.05, what=f"the kill in {p} seen")
                    except AssertionError:
                        pass  # the settling below says what is wrong
            _settle(podd, desired, f"{n} ({action} {name}, {target} killed)", lost, doubled, stuck, resurrected,
                    timeout=scale.pick(30, 45))
        out.figure("rounds", rounds)
        out.figure("kills podd/monitor/container", "/".join(str(kills[t]) for t in TARGETS))
        out.figure("pods at end", sum(v == "present" for v in desired.values()))
        out.figure("lost/doubled/stuck/back", f"{len(lost)}/{len(doubled)}/{len(stuck)}/{len(resurrected)}")
        out.figure("hung clients", len(hung))
        for what, items, item in (("acknowledged pod(s) lost", lost, "issue 9 item 9"),
                                  ("pod(s) doubled", doubled, ""),
                                  ("pod(s) not running and ready after settling", stuck, "issue 9 item 9"),
                                  ("deleted pod(s) still there or back", resurrected, "issue 9 items 4, 14"),
                                  ("client(s) left hanging", hung, "issue 9 item 15"),
                                  ("podd crash(es)", crashes, "")):
            out.expect(not items, f"{len(items)} {what}{' (' + item + ')' if item else ''}: {items[:3]}")
        if podd.alive():
            zombies = zombie_children(podd.proc.pid)
            out.expect(not zombies, f"{len(zombies)} zombie child(ren) of podd with the pods settled (issue 9 item 5)")
            inherited = inherited_api_sockets(podd)
            out.expect(not inherited, f"{len(inherited)} inherited fd(s) after the rounds: {inherited[:3]}")
        try:
            podd.delete_all()
        except AssertionError as e:
            out.expect(False, str(e).splitlines()[0])
        expect_no_errors_nor_leaks(out, podd, fd_baseline)
    return out


def _settle(podd, desired, n, lost, doubled, stuck, resurrected, timeout, steady=1.5):
    """Waits until every pod is in its desired state and has stayed so for `steady` seconds,
    then records what is not. A kill's effect reaches the API a moment after the kill (podd
    hears of a dead monitor when its socket closes): a state that holds for one look only,
    taken before that, is not a settled one. The verdict is made on the very listing that
    was last looked at, never on a later one."""
    def listed():
        pods = podd.pods()
        return [p["metadata"]["name"] for p in pods], {p["metadata"]["name"]: p for p in pods}

    last = {"listing": None, "since": None}

    def settled_now(names, pods):
        for name, want in desired.items():
            if want == "present" and not (name in pods and _ready(pods[name])):
                return False
            if want == "absent" and name in pods:
                return False
            if want == "either" and name in pods and (pods[name]["metadata"].get("deletionTimestamp")
                                                       or not _ready(pods[name])):
                # An unanswered delete may still be under way: settled once gone or running.
                return False
        return len(monitors_of(podd)) == len(names)

    def settled():
        last["listing"] = listed()
        if not settled_now(*last["listing"]):
            last["since"] = None
            return False
        last["since"] = last["since"] or time.monotonic()
        return time.monotonic() - last["since"] >= steady
    try:
        wait_for(settled, timeout=timeout, interval=0.2, what="pods in their desired state")
    except AssertionError:
        pass
    names, pods = last["listing"] or listed()
    # Deletions still in progress when the watch gave up are given the same time again.
    for name, want in list(desired.items()):
        if want == "either":
            terminating = name in pods and pods[name]["metadata"].get("deletionTimestamp")
            desired[name] = "present" if name in pods and not terminating else "absent"
            want = desired[name]
            if terminating:
                continue
        if want == "present" and name not in pods:
            lost.append(f"round {n}: {name}")
            desired[name] = "absent"
        elif want in ("present", "either") and name in pods and not _ready(pods[name]):
            st = pods[name]["status"]
            stuck.append(f"round {n}: {name} {st.get('phase')} " + "; ".join(
                f"{s['name']} restarts {s.get('restartCount')} ready {s.get('ready')} {s.get('state')} "
                f"last {s.get('lastState')}"[:600] for s in st.get("containerStatuses", [])))
            # Recorded once: from now on it must just not be lost.
            podd.request("DELETE", f"/api/v1/namespaces/default/pods/{name}?gracePeriodSeconds=0")
            desired[name] = "absent"
        elif want == "absent" and name in pods:
            resurrected.append(f"round {n}: {name}")
            podd.request("DELETE", f"/api/v1/namespaces/default/pods/{name}?gracePeriodSeconds=0")
    dupes = sorted({x for x in names if names.count(x) > 1})
    if dupes:
        doubled.append(f"round {n}: {dupes}")
    mons = len(monitors_of(podd))
    if mons > len(set(names)):
        doubled.append(f"round {n}: {mons} monitors for {len(set(names))} pods")
