"""The ``symbolic-mf`` command: list, show, verify, check, exit codes and the JSON contract."""

import json
import re

import pytest
import sympy as sp

from symbolic_mf.cli import catalogue_cmd, main
from symbolic_mf.domains import REALS, RealInterval
from symbolic_mf.identity import Identity
from symbolic_mf.registry import Registry

#: the JSON fields of one verified identity: a stable, machine-readable contract
VERIFY_FIELDS = ["id", "verdict", "points", "digits", "dps", "check_dps", "seconds", "reason",
                 "counterexample", "rigorous"]

x = sp.Symbol("x", real=True)


def _toy_registry(*kinds):
    """Small, fast identities: closed forms only, so verifying them costs milliseconds."""
    reg = Registry()
    make = {
        "pass": lambda: Identity("toy.square", "a square", (x + 1) ** 2, x ** 2 + 2 * x + 1, {x: REALS},
                                 topics=["toy"], references=["-"]),
        "fail": lambda: Identity("toy.wrong", "a wrong square", (x + 1) ** 2, x ** 2 + 1, {x: REALS},
                                 topics=["toy"], references=["-"]),
        "unknown": lambda: Identity("toy.empty", "no admissible point", x, x, {x: RealInterval(0, 1)},
                                    assumptions=[sp.Gt(x, 2)], topics=["toy"], references=["-"]),
    }
    for k in kinds:
        reg.add(make[k]())
    return reg


@pytest.fixture
def toy(monkeypatch):
    def use(*kinds):
        reg = _toy_registry(*kinds)
        monkeypatch.setattr(catalogue_cmd, "catalogue", lambda: reg)
        return reg
    return use


# ---------------------------------------------------------------------------
# list and show


def test_list_by_topic(capsys):
    assert main(["list", "--topic", "gaussian"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines and all(line.startswith("gauss.") for line in lines)
    assert any(line.startswith("gauss.sheppard ") for line in lines)


def test_list_json(capsys):
    assert main(["list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {"gauss.sheppard", "kernels.rho-alpha"} <= {r["id"] for r in rows}
    assert all(set(r) == {"id", "title", "topics", "method"} for r in rows)


def test_show_and_latex(capsys):
    assert main(["show", "gauss.rho-second-moment"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("gauss.rho-second-moment:") and "alpha in (-1/2, 8]" in out and "ref:" in out
    assert main(["show", "gauss.rho-second-moment", "--latex"]) == 0
    assert r"\mathbb{E}_{z \sim \mathcal{N}(0, 1)}" in capsys.readouterr().out


def test_show_unknown_id_exits_2_with_a_suggestion(capsys):
    assert main(["show", "gauss.shepard"]) == 2
    assert "did you mean 'gauss.sheppard'" in capsys.readouterr().err


# ---------------------------------------------------------------------------
# verify


def test_verify_real_identity_table(capsys):
    assert main(["verify", "gauss.sheppard", "--points", "3", "--jobs", "1", "-q"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["identity", "verdict", "points", "digits", "seconds"]
    assert out[1].split()[:3] == ["gauss.sheppard", "PASS", "3"]
    assert out[-1].startswith("PASS 1 / FAIL 0 / UNKNOWN 0")


def test_verify_json_has_the_stable_field_list(capsys):
    assert main(["verify", "gauss.sheppard", "--points", "2", "--jobs", "1", "-q", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert isinstance(rows, list) and len(rows) == 1
    assert list(rows[0]) == VERIFY_FIELDS
    r = rows[0]
    assert r["id"] == "gauss.sheppard" and r["verdict"] == "PASS" and r["points"] == 2
    assert r["dps"] == 30 and r["check_dps"] == 45 and r["counterexample"] is None and r["rigorous"] is None


def test_verify_all_progress_table_summary_and_exit_1_on_fail(toy, capsys):
    toy("pass", "fail", "unknown")
    assert main(["verify", "--all", "--jobs", "1"]) == 1
    cap = capsys.readouterr()
    # progress on stderr, one line per identity as it finishes
    assert re.findall(r"^\[(\d)/3\] (\S+) (\w+)$", cap.err, re.M) == [
        ("1", "toy.square", "PASS"), ("2", "toy.wrong", "FAIL"), ("3", "toy.empty", "UNKNOWN")]
    out = cap.out.splitlines()
    assert out[-1].startswith("PASS 1 / FAIL 1 / UNKNOWN 1  (3 identities, dps 30")
    wrong = out.index(next(line for line in out if line.startswith("toy.wrong")))
    assert "'point': {'x':" in out[wrong + 1]  # the counterexample is printed under its row
    assert any("no admissible point" in line for line in out)


def test_verify_json_reports_fail_and_unknown(toy, capsys):
    toy("fail", "unknown")
    assert main(["verify", "--all", "--jobs", "1", "--json", "-q"]) == 1
    rows = {r["id"]: r for r in json.loads(capsys.readouterr().out)}
    assert [list(r) for r in rows.values()] == [VERIFY_FIELDS] * 2
    ce = rows["toy.wrong"]["counterexample"]
    assert rows["toy.wrong"]["verdict"] == "FAIL" and ce["lhs"] != ce["rhs"] and "x" in ce["point"]
    assert rows["toy.empty"]["verdict"] == "UNKNOWN" and rows["toy.empty"]["points"] == 0


@pytest.mark.parametrize("kinds, code", [(("pass",), 0), (("pass", "unknown"), 3), (("unknown", "fail"), 1)])
def test_verify_exit_codes(toy, kinds, code, capsys):
    toy(*kinds)
    assert main(["verify", "--all", "--jobs", "1", "-q"]) == code


def test_verify_topic_and_parallel_jobs_agree(toy, capsys):
    toy("pass", "fail")
    assert main(["verify", "--topic", "toy", "--jobs", "2", "--json", "-q"]) == 1
    rows = json.loads(capsys.readouterr().out)
    assert [r["verdict"] for r in rows] == ["PASS", "FAIL"]  # input order kept


def test_verify_usage_errors(capsys):
    assert main(["verify"]) == 2
    assert "give identity ids" in capsys.readouterr().err
    assert main(["verify", "gauss.nope"]) == 2
    assert "no identity 'gauss.nope'" in capsys.readouterr().err
    assert main(["verify", "gauss.sheppard", "--dps", "5", "--jobs", "1", "-q"]) == 2
    assert "dps = 5 is outside its valid range" in capsys.readouterr().err


# ---------------------------------------------------------------------------
# check


def test_check_true_false_and_json(capsys):
    relu = "E(relu(u)*relu(v))"
    rhs = "(sqrt(1-c^2) + (pi - acos(c))*c)/(2*pi)"
    assert main(["check", relu, rhs, "--where", "c in [-1, 1]", "--points", "3"]) == 0
    assert capsys.readouterr().out.startswith("PASS user.check: 3 points")
    assert main(["check", relu, "c/2", "--where", "c in [-1, 1]", "--points", "3"]) == 1
    assert "FAIL user.check: counterexample at c = " in capsys.readouterr().out
    assert main(["check", "E(z^2, q=s)", "s", "--where", "s in (0, 5]", "--points", "2", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert list(d) == VERIFY_FIELDS and d["verdict"] == "PASS"


def test_check_inequality_and_unknown(capsys):
    assert main(["check", "E(abs(z))", "1", "--relation", "<=", "--points", "1"]) == 0
    capsys.readouterr()
    assert main(["check", "x", "x", "--where", "x in [0, 1]", "--assume", "x > 2"]) == 3
    assert "no admissible point" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["check", "__import__('os').system('true')", "0"], "no attributes"),
    (["check", "x.real", "0", "--where", "x in [0, 1]"], "Attribute"),
    (["check", "x", "x"], "every free variable needs a domain"),
    (["check", "x", "x", "--where", "x is real"], "--where 'x is real'"),
    (["check", "x", "x", "--where", "x in [1, 0]"], "empty interval"),
    (["check", "x", "x", "--where", "x in [0, 1]", "--assume", "lambda: 1"], "Lambda"),
    (["check", "x", "x", "--where", "x in [0, 1]", "--dps", "10"], "dps = 10"),
])
def test_check_bad_input_exits_2_with_a_clear_message(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("symbolic-mf: error:") and message in err


@pytest.fixture
def live_thread():
    # a thread besides the main one, as JAX/XLA pools leave in a test process
    import threading

    stop = threading.Event()
    t = threading.Thread(target=stop.wait, daemon=True)
    t.start()
    yield
    stop.set()
    t.join()


def test_verify_workers_are_not_forked_from_a_threaded_process(live_thread, capsys):
    # fork() of a process whose other threads hold locks can deadlock the child:
    # then the workers come from a fresh process that rebuilds the shipped catalogue
    assert catalogue_cmd._start_method() in ("forkserver", "spawn")
    ids = ["gauss.sheppard", "gauss.rho-mean"]
    assert main(["verify", *ids, "--jobs", "2", "--json", "-q", "--dps", "30"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in rows] == ids and {r["verdict"] for r in rows} == {"PASS"}


def test_verify_substituted_registry_in_a_threaded_process_runs_serially(toy, live_thread, capsys):
    # fresh worker processes could not see a registry substituted at run time
    toy("pass", "fail")
    assert catalogue_cmd._start_method() is None
    assert main(["verify", "--topic", "toy", "--jobs", "2", "--json", "-q"]) == 1
    assert [r["verdict"] for r in json.loads(capsys.readouterr().out)] == ["PASS", "FAIL"]
