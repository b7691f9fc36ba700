"""scripts/compat-table.py: status computed from JUnit XML and runc-bats results, README region."""

from __future__ import annotations

import ast
import importlib.util
import stat
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent.parent
SCRIPT = REPO / "scripts" / "compat-table.py"


def _load():
    spec = importlib.util.spec_from_file_location("compat_table", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


ct = _load()

JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites name="pytest tests"><testsuite name="pytest" tests="9">
<testcase classname="tests.integration.test_a" name="test_ok_one" time="0.1" />
<testcase classname="tests.integration.test_a" name="test_ok_two[x]" time="0.1" />
<testcase classname="tests.integration.test_b" name="test_broken" time="0.1">
  <failure message="assert 0">boom</failure></testcase>
<testcase classname="tests.integration.test_b" name="test_fine" time="0.1" />
<testcase classname="tests.integration.test_c" name="test_skipped" time="0.0">
  <skipped type="pytest.skip" message="no">skip</skipped></testcase>
<testcase classname="tests.integration.test_d" name="test_xfailed" time="0.0">
  <skipped type="pytest.xfail" message="later" /></testcase>
<testcase classname="tests.integration.test_d" name="test_passes" time="0.0" />
<testcase classname="tests.unit.test_e" name="test_teardown" time="0.0" />
<testcase classname="tests.unit.test_e" name="test_teardown" time="0.0">
  <error message="leak">teardown</error></testcase>
<testcase classname="tests.unit.test_f" name="test_unit_only" time="0.0" />
</testsuite></testsuites>
"""

BATS = (
    "file\tstatus\ttest\tdetail\n"
    "exec.bats\tpass\trunc exec\t\n"
    "exec.bats\tpass\trunc exec --env\t\n"
    "tty.bats\tpass\trunc run [tty ptsname]\t\n"
    "tty.bats\txfail\trunc exec [tty consolesize]\tsome error\n"
    "tty.bats\tskip\trunc run [tty owner] ({u,g}id != 0)\tneeds rootless\n"
    "dev.bats\tfail\truns [device cgroup deny]\tcat: no such file\n"
    "dev.bats\tpass\truns [redundant default /dev/tty]\t\n"
)


@pytest.fixture
def junit_file(tmp_path):
    p = tmp_path / "junit.xml"
    p.write_text(JUNIT)
    return p


@pytest.fixture
def bats_file(tmp_path):
    p = tmp_path / "results.tsv"
    p.write_text(BATS)
    return p


@pytest.fixture
def repo(tmp_path):
    """A fake checkout: two of the test files exist, one command module exists."""
    r = tmp_path / "repo"
    (r / "tests" / "integration").mkdir(parents=True)
    (r / "tests" / "integration" / "test_a.py").write_text("")
    (r / "tests" / "unit").mkdir(parents=True)
    (r / "tests" / "unit" / "test_g.py").write_text("")
    (r / "pyrunc" / "commands").mkdir(parents=True)
    (r / "pyrunc" / "commands" / "exec.py").write_text("")
    return r


def _eval(row, junit_file, bats_file=None, repo=REPO):
    junit = ct.read_junit(junit_file, repo)
    bats = ct.read_bats(bats_file) if bats_file else None
    return ct.evaluate(row, junit, bats, repo)


# -- reading ---------------------------------------------------------------------


def test_read_junit_outcomes_and_node_ids(junit_file, repo):
    res = ct.read_junit(junit_file, repo)
    assert res["tests/integration/test_a.py::test_ok_one"] == "passed"
    assert res["tests/integration/test_a.py::test_ok_two[x]"] == "passed"
    assert res["tests/integration/test_b.py::test_broken"] == "failed"
    assert res["tests/integration/test_c.py::test_skipped"] == "skipped"
    assert res["tests/integration/test_d.py::test_xfailed"] == "xfailed"
    # a pass followed by a teardown error of the same test is a failure
    assert res["tests/unit/test_e.py::test_teardown"] == "failed"
    assert len(res) == 9


def test_classname_with_a_class(tmp_path, repo):
    p = tmp_path / "j.xml"
    p.write_text('<testsuites><testsuite>'
                 '<testcase classname="tests.unit.test_g.TestThing" name="test_x" />'
                 '<testcase classname="tests.unit.test_missing.TestOther" name="test_y" />'
                 '</testsuite></testsuites>')
    res = ct.read_junit(p, repo)
    # the file exists in the checkout: the rest is the class path
    assert "tests/unit/test_g.py::TestThing::test_x" in res
    # not in the checkout: trailing CapWords parts are taken as classes
    assert "tests/unit/test_missing.py::TestOther::test_y" in res


def test_read_bats(bats_file):
    res = ct.read_bats(bats_file)
    assert res[("exec.bats", "runc exec")] == "passed"
    assert res[("tty.bats", "runc exec [tty consolesize]")] == "xfailed"
    assert res[("tty.bats", "runc run [tty owner] ({u,g}id != 0)")] == "skipped"
    assert res[("dev.bats", "runs [device cgroup deny]")] == "failed"
    assert ("file", "test") not in res


def test_read_bats_refuses_unknown_status(tmp_path):
    p = tmp_path / "r.tsv"
    p.write_text("file\tstatus\ttest\tdetail\nx.bats\tmaybe\tt\t\n")
    with pytest.raises(ValueError, match="unknown status"):
        ct.read_bats(p)


# -- status --------------------------------------------------------------------------


def test_all_passed_is_works(junit_file, repo):
    r = _eval(("spec feature", "a", ["tests/integration/test_a.py"], ""), junit_file, repo=repo)
    assert (r.status, r.passed, r.ran) == ("works", 2, 2)
    assert r.status_text() == "works (2/2 tests)"


def test_some_failed_is_partial(junit_file, repo):
    r = _eval(("spec feature", "b", ["tests/integration/test_b.py"], ""), junit_file, repo=repo)
    assert r.status_text() == "partial (1/2 tests)"
    assert r.failing == ["tests/integration/test_b.py::test_broken"]
    assert "failing: `test_b.py::test_broken`" in ct._notes(r)


def test_xfail_counts_as_a_failure(junit_file, repo):
    r = _eval(("spec feature", "d", ["tests/integration/test_d.py"], ""), junit_file, repo=repo)
    assert r.status_text() == "partial (1/2 tests)"


def test_none_passed_is_not_yet(junit_file, repo):
    r = _eval(("spec feature", "b", ["tests/integration/test_b.py::test_broken"], ""), junit_file, repo=repo)
    assert r.status_text() == "not yet (0/1 test)"


def test_only_skipped_or_nothing_is_not_yet(junit_file, repo):
    r = _eval(("spec feature", "c", ["tests/integration/test_c.py"], ""), junit_file, repo=repo)
    assert (r.status, r.ran, r.skipped) == ("not yet", 0, 1)
    assert r.status_text() == "not yet (none ran)"
    r = _eval(("spec feature", "z", [], ""), junit_file, repo=repo)
    assert r.status_text() == "not yet (no tests)"
    r = _eval(("spec feature", "z", ["tests/integration/test_nothing.py"], ""), junit_file, repo=repo)
    assert r.status_text() == "not yet (no tests)"


def test_prefix_and_substring_patterns(junit_file, repo):
    # a node-id prefix stops nowhere in particular: test_ok matches both test_ok_*
    r = _eval(("spec feature", "p", ["tests/integration/test_a.py::test_ok"], ""), junit_file, repo=repo)
    assert r.ran == 2
    # without the tests/ prefix a pattern is a substring of the node id
    r = _eval(("spec feature", "s", ["ok_two"], ""), junit_file, repo=repo)
    assert (r.ran, r.passed) == (1, 1)
    # a test matched by two patterns counts once
    r = _eval(("spec feature", "d", ["tests/integration/test_a.py", "test_ok_one"], ""), junit_file, repo=repo)
    assert r.ran == 2


def test_command_without_module_is_not_yet_even_if_tests_pass(junit_file, repo):
    row = ("command", "pause", ["tests/integration/test_a.py"], "")
    r = _eval(row, junit_file, repo=repo)
    assert r.status == "not yet" and r.missing_command
    assert r.status_text() == "not yet (no command)"
    assert "not supported by pyrunc yet" in ct._notes(r)
    r = _eval(("command", "exec", ["tests/integration/test_a.py"], ""), junit_file, repo=repo)
    assert r.status_text() == "works (2/2 tests)"
    # a row named with several words is not a command module
    r = _eval(("command", "global flags", ["tests/integration/test_a.py"], ""), junit_file, repo=repo)
    assert r.status == "works"


def test_command_with_a_handler_in_the_command_table_exists(junit_file, repo):
    (repo / "pyrunc" / "cli").mkdir()
    (repo / "pyrunc" / "cli" / "table.py").write_text(
        'COMMANDS = {\n'
        '    "state": {"usage": "x", "handler": "pyrunc.state:run_state"},\n'
        '    "kill": {"usage": "x", "handler": "pyrunc.container:run_kill"},\n'
        '}\n')
    (repo / "pyrunc" / "state.py").write_text("def run_state(inv):\n    return 0\n")
    (repo / "pyrunc" / "container.py").write_text("def something_else():\n    pass\n")
    assert ct.table_handlers(repo) == {"state": "pyrunc.state:run_state", "kill": "pyrunc.container:run_kill"}
    r = _eval(("command", "state", ["tests/integration/test_a.py"], ""), junit_file, repo=repo)
    assert r.status_text() == "works (2/2 tests)"
    # the named function must exist
    r = _eval(("command", "kill", ["tests/integration/test_a.py"], ""), junit_file, repo=repo)
    assert r.status_text() == "not yet (no command)"


def test_the_commands_of_this_repository_exist():
    from pyrunc.cli.table import COMMANDS

    # checkpoint/restore need CRIU (not implemented); `help` is answered by main.
    assert {name for name in COMMANDS if not ct.command_exists(name)} == {"checkpoint", "restore", "help"}
    assert {"state", "start", "kill", "delete"} <= set(ct.table_handlers())


def test_bats_patterns(junit_file, bats_file, repo):
    r = _eval(("command", "exec", ["tests/integration/test_a.py", "exec.bats"], ""), junit_file, bats_file, repo)
    assert r.status_text() == "works (4/4 tests)"
    assert r.sources == {"tests/integration/test_a.py": 2, "exec.bats": 2}
    # xfail is a failure, skip is not counted
    r = _eval(("spec feature", "tty", ["tty.bats"], ""), junit_file, bats_file, repo)
    assert (r.status, r.passed, r.ran, r.skipped) == ("partial", 1, 2, 1)
    # FILE.bats:TEXT selects tests by name
    r = _eval(("spec feature", "dev", ["dev.bats:redundant default"], ""), junit_file, bats_file, repo)
    assert r.status_text() == "works (1/1 test)"
    r = _eval(("spec feature", "cg", ["dev.bats:device cgroup"], ""), junit_file, bats_file, repo)
    assert r.status_text() == "not yet (0/1 test)"
    # bats evidence without a bats file: nothing ran
    r = _eval(("spec feature", "tty", ["tty.bats"], ""), junit_file, None, repo)
    assert r.status_text() == "not yet (no tests)"


def test_sources_with_one_base_name_twice(tmp_path, repo):
    p = tmp_path / "j.xml"
    p.write_text('<testsuites><testsuite>'
                 '<testcase classname="tests.unit.test_s" name="test_a" />'
                 '<testcase classname="tests.integration.test_s" name="test_b" />'
                 '<testcase classname="tests.integration.test_t" name="test_c" />'
                 '</testsuite></testsuites>')
    r = _eval(("spec feature", "s", ["test_s", "test_t"], ""), p, repo=repo)
    assert ct._sources(r) == "unit/test_s.py 1, integration/test_s.py 1, test_t.py 1"


def test_unit_only_note(junit_file, bats_file, repo):
    r = _eval(("spec feature", "u", ["tests/unit/test_f.py"], ""), junit_file, repo=repo)
    assert r.unit_only and "unit tests only" in ct._notes(r)
    r = _eval(("spec feature", "u", ["tests/unit/test_f.py", "exec.bats"], ""), junit_file, bats_file, repo)
    assert not r.unit_only


def test_render_is_a_markdown_table(junit_file, bats_file, repo):
    rows = [("command", "exec", ["tests/integration/test_a.py"], ""),
            ("spec feature", "a | b", ["tests/integration/test_b.py"], "note")]
    junit = ct.read_junit(junit_file, repo)
    bats = ct.read_bats(bats_file)
    text = ct.render(ct.evaluate_all(junit, bats, repo, rows), junit, bats)
    assert "| `exec` | works (2/2 tests) | test_a.py 2 |  |" in text
    assert "| a \\| b | partial (1/2 tests) | test_b.py 2 | note; failing: `test_b.py::test_broken` |" in text
    assert "pytest (5 passed, 2 failed, 1 xfailed, 1 skipped)" in text
    assert "runc-bats" in text and "4 passed, 2 failed (1 of them listed as expected), 1 skipped" in text


# -- README region ----------------------------------------------------------------------

README = """# title

text before

<!-- compat-table:start -->
old table
<!-- compat-table:end -->

## after

<!-- bats:start -->
<!-- bats:end -->
"""


def test_replace_region_keeps_everything_else():
    new = ct.replace_region(README, "| a | b |\n")
    assert new.startswith("# title\n\ntext before\n\n<!-- compat-table:start -->\n| a | b |\n<!-- compat-table:end -->")
    assert new.endswith("## after\n\n<!-- bats:start -->\n<!-- bats:end -->\n")
    assert "old table" not in new
    assert ct.replace_region(new, "| a | b |\n") == new  # idempotent
    assert ct.current_region(new) == "| a | b |"


def test_replace_region_of_an_empty_region():
    text = "x\n<!-- compat-table:start -->\n<!-- compat-table:end -->\ny\n"
    assert ct.replace_region(text, "T\n") == "x\n<!-- compat-table:start -->\nT\n<!-- compat-table:end -->\ny\n"


@pytest.mark.parametrize("text", ["no markers", "<!-- compat-table:end -->\n<!-- compat-table:start -->"])
def test_missing_markers(text):
    with pytest.raises(ValueError, match="markers"):
        ct.replace_region(text, "T")


def test_write_then_check(tmp_path, junit_file, bats_file, capsys):
    readme = tmp_path / "README.md"
    readme.write_text(README)
    args = ["--junit", str(junit_file), "--bats", str(bats_file)]
    assert ct.main(args + ["--check", str(readme)]) == 1
    assert "out of date" in capsys.readouterr().err
    assert ct.main(args + ["--write", str(readme)]) == 0
    assert ct.main(args + ["--check", str(readme)]) == 0
    text = readme.read_text()
    assert text.startswith("# title\n\ntext before\n\n<!-- compat-table:start -->\n")
    assert "| `exec` |" in text and "## after" in text
    # other evidence, other table
    assert ct.main(["--junit", str(junit_file), "--check", str(readme)]) == 1
    # --print alone prints the same table
    capsys.readouterr()
    assert ct.main(args + ["--print"]) == 0
    assert capsys.readouterr().out.strip("\n") == ct.current_region(text)


def test_check_without_markers_is_an_error(tmp_path, junit_file):
    readme = tmp_path / "README.md"
    readme.write_text("nothing here\n")
    assert ct.main(["--junit", str(junit_file), "--check", str(readme)]) == 2


def test_junit_is_required(capsys):
    with pytest.raises(SystemExit) as e:
        ct.main(["--print"])
    assert e.value.code == 2
    assert "--junit FILE is required" in capsys.readouterr().err


def test_bad_junit_is_an_error(tmp_path, capsys):
    p = tmp_path / "j.xml"
    p.write_text("<not xml")
    assert ct.main(["--junit", str(p), "--print"]) == 2


def test_run_tests_uses_the_given_python(tmp_path, capsys):
    """--run-tests runs `PY -m pytest ... --junitxml=TMP tests` and reads TMP; a fake
    python stands in for pytest here."""
    fake = tmp_path / "fakepython"
    fake.write_text(
        "#!/bin/sh\n"
        "for a in \"$@\"; do case $a in --junitxml=*) out=${a#--junitxml=};; esac; done\n"
        "echo \"$@\" > " + str(tmp_path / "argv") + "\n"
        "printf '%s' '<testsuites><testsuite><testcase classname=\"tests.integration.test_exec\" "
        "name=\"test_exec_runs_in_the_container_namespaces\"/></testsuite></testsuites>' > \"$out\"\n"
        "exit 1\n"
    )
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    assert ct.main(["--run-tests", "--python", str(fake), "--print"]) == 0
    argv = (tmp_path / "argv").read_text().split()
    assert argv[:5] == ["-m", "pytest", "-q", "-p", "no:cacheprovider"] and argv[-1] == "tests"
    assert "| `exec` | works (1/1 test) |" in capsys.readouterr().out


def test_run_tests_fails_without_results(tmp_path):
    fake = tmp_path / "fakepython"
    fake.write_text("#!/bin/sh\nexit 4\n")
    fake.chmod(0o755)
    with pytest.raises(SystemExit, match="pytest exited 4"):
        ct.main(["--run-tests", "--python", str(fake), "--print"])


# -- the real table's rows ------------------------------------------------------------------

RUNC_COMMANDS = ["create", "start", "run", "exec", "kill", "delete", "state", "list", "ps", "events",
                 "update", "pause", "resume", "checkpoint", "restore", "spec", "features"]


def test_every_command_has_a_row():
    names = [r[1] for r in ct.ROWS if r[0] == ct.COMMAND]
    for name in RUNC_COMMANDS + ["plan", "validate"]:
        assert names.count(name) == 1, name
    assert all(r[0] in (ct.COMMAND, ct.FEATURE, ct.ENGINE) for r in ct.ROWS)


def _defined_tests() -> list[str]:
    """pytest node ids (without parameters) of the test functions under tests/."""
    ids = []
    for path in sorted((REPO / "tests").rglob("test_*.py")):
        rel = path.relative_to(REPO).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
                ids.append(f"{rel}::{node.name}")
            elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
                for sub in node.body:
                    if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef)) and sub.name.startswith("test"):
                        ids.append(f"{rel}::{node.name}::{sub.name}")
    return ids


def test_every_pytest_pattern_names_an_existing_test():
    """A renamed or removed test would silently drop out of the table: every
    pattern must still match a test function defined under tests/."""
    defined = _defined_tests()
    stale = [p for r in ct.ROWS for p in r[2] if not ct.is_bats(p) and not any(ct.match_pytest(p, n) for n in defined)]
    assert stale == []


def test_bats_patterns_are_well_formed():
    for r in ct.ROWS:
        for p in r[2]:
            if ct.is_bats(p):
                file, _, _ = p.partition(":")
                assert file.endswith(".bats") and "/" not in file, p
