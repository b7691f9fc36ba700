#!/usr/bin/python3
"""README's compatibility table, computed from test results.

Each row of ROWS names a runc command or a runtime-spec feature area and the
tests that are its evidence. The status is computed from a pytest JUnit XML
file (``pytest --junitxml=FILE``) and, optionally, runc-bats' results.tsv:

    works    every mapped test that ran passed (and at least one ran)
    partial  some passed, some failed (a listed expected failure is a failure)
    not yet  none passed, no mapped test ran, or (for a command) pyrunc has
             neither pyrunc/commands/<name>.py nor a handler for it in the command
             table, i.e. `pyrunc <name>` answers '"<name>" is not supported by
             pyrunc yet'

Evidence patterns:
    tests/...            a pytest node-id prefix: a file, or file::test_name_prefix
    anything else        a substring of the pytest node id
    FILE.bats            every test of that runc-bats file
    FILE.bats:TEXT       the tests of FILE.bats whose name contains TEXT

Usage:
    compat-table.py --junit J.xml [--bats results.tsv] --print
    compat-table.py --junit J.xml [--bats results.tsv] --write README.md
    compat-table.py --junit J.xml [--bats results.tsv] --check README.md   # exit 1 if stale
    compat-table.py --run-tests [--python PY] ...   # run the pytest suite first
    compat-table.py --junit J.xml --unmapped        # tests no row claims

Standard library only.
"""

from __future__ import annotations

import argparse
import ast
import csv
import difflib
import os
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
START = "<!-- compat-table:start -->"
END = "<!-- compat-table:end -->"

COMMAND = "command"
FEATURE = "spec feature"
ENGINE = "engine"

IT = "tests/integration/"
ENG = "tests/engines/"
UNIT = "tests/unit/"
PLAN = UNIT + "test_plan.py::"

# (kind, name, evidence, note). A command row's name is the command (its first
# word, for the module check); the note is static text shown before the
# computed remarks (failures, skips).
ROWS = [
    # -- runc commands (cli.md §2) ------------------------------------------
    (COMMAND, "create", [
        IT + "test_lifecycle.py::test_create_",
        IT + "test_lifecycle.py::test_duplicate_create_fails",
        IT + "test_lifecycle.py::test_invalid_id",
        IT + "test_lifecycle.py::test_pid_file_relative_to_cwd",
        IT + "test_concurrency.py::test_racing_creates_of_one_id",
        IT + "test_concurrency.py::test_parallel_creates_of_different_ids",
        IT + "test_stdio.py::test_create_",
        IT + "test_stdio.py::test_preserve_fds",
        IT + "test_socket_activation.py",
        "create.bats",
    ], ""),
    (COMMAND, "start", [
        IT + "test_lifecycle.py::test_create_start_kill_delete",
        IT + "test_lifecycle.py::test_create_does_not_run_process_until_start",
        IT + "test_lifecycle.py::test_start_running_fails",
        IT + "test_bad_input.py::test_missing_process_start_fails",
        PLAN + "test_exec_fifo_opened_before_pivot",
        "start.bats",
    ], ""),
    (COMMAND, "run", [
        IT + "test_lifecycle.py::test_run_",
        IT + "test_stdio.py::test_run_",
        IT + "test_examples.py",
        "run.bats",
        "start_hello.bats",
        "start_detached.bats",
    ], ""),
    (COMMAND, "exec", [
        IT + "test_exec.py",
        "exec.bats",
    ], ""),
    (COMMAND, "kill", [
        IT + "test_lifecycle.py::test_kill_",
        IT + "test_lifecycle.py::test_create_start_kill_delete",
        "::test_kill_all_",
        "kill.bats",
    ], ""),
    (COMMAND, "delete", [
        IT + "test_lifecycle.py::test_delete_",
        IT + "test_concurrency.py::test_racing_deletes",
        IT + "test_namespaces.py::test_no_pid_namespace_delete_force_kills_everything",
        IT + "test_lifecycle.py::test_many_sequential_ids_reuse",
        "delete.bats",
    ], ""),
    (COMMAND, "state", [
        IT + "test_cli_output.py::test_state_",
        IT + "test_lifecycle.py::test_missing_container",
        "tests/unit/test_state_file.py",
        "tests/unit/test_jsonio.py",
        "state.bats",
    ], ""),
    (COMMAND, "list", [
        IT + "test_cli_output.py::test_list_",
        "list.bats",
    ], ""),
    # substrings, not paths: these tests live with the cgroup tests, whatever that file is called
    (COMMAND, "ps", ["::test_ps", "ps.bats"], ""),
    (COMMAND, "events", ["::test_events_", "::test_pause_update_events", "events.bats"], ""),
    (COMMAND, "update", ["::test_update_", "::test_pause_update_events", "update.bats"], ""),
    (COMMAND, "pause", ["::test_pause_", "pause.bats", "state.bats:pause"], ""),
    (COMMAND, "resume", ["::test_pause_resume", "::test_pause_created_container_and_resume",
                         "::test_pause_update_events", "pause.bats", "state.bats:pause"], ""),
    (COMMAND, "checkpoint", [
        UNIT + "test_cli_help.py::test_checkpoint_help_probe",
        "checkpoint.bats",
    ], "needs CRIU, which cannot initialise on this host kind even for runc"),
    (COMMAND, "restore", ["checkpoint.bats"],
     "needs CRIU, which cannot initialise on this host kind even for runc"),
    (COMMAND, "spec", [
        UNIT + "test_spec_command.py",
        "spec.bats",
    ], ""),
    (COMMAND, "features", ["test_features"], ""),
    (COMMAND, "plan", [
        PLAN + "test_render_",
        PLAN + "test_plan_records_and_never_performs",
    ], "pyrunc's own"),
    (COMMAND, "validate", [
        UNIT + "test_validate.py",
        UNIT + "test_runtime_spec_examples.py::test_validate_",
        UNIT + "test_runtime_spec_examples.py::test_schemas_agree_",
    ], "pyrunc's own"),
    (COMMAND, "global flags, help, version", [
        UNIT + "test_cli_parse.py",
        UNIT + "test_cli_help.py",
        UNIT + "test_log.py",
        IT + "test_lifecycle.py::test_missing_id_argument_fails",
        IT + "test_lifecycle.py::test_two_roots_are_independent",
        IT + "test_cli_output.py::test_list_uses_given_root_only",
        "root.bats",
        "debug.bats",
        "help.bats",
        "version.bats",
    ], "--root, --log, --log-format, --debug, -h, -v"),
    # -- runtime-spec feature areas -------------------------------------------
    (FEATURE, "config.json loading: ociVersion, unknown fields, errors", [
        IT + "test_bad_input.py",
        UNIT + "test_model.py",
        UNIT + "test_runtime_spec_examples.py::test_good_config_loads",
        UNIT + "test_runtime_spec_examples.py::test_bad_config_is_refused",
        UNIT + "test_runtime_spec_examples.py::test_parse_config_accepts",
    ], ""),
    (FEATURE, "process: args, env, cwd", [
        IT + "test_process.py::test_env",
        IT + "test_process.py::test_home_",
        IT + "test_process.py::test_cwd",
        IT + "test_process.py::test_missing_cwd_is_created",
        IT + "test_process.py::test_path_lookup",
        IT + "test_process.py::test_absolute_args0",
        IT + "test_process.py::test_args_with_spaces",
        IT + "test_process.py::test_missing_executable",
        IT + "test_bad_input.py::test_empty_args",
        IT + "test_bad_input.py::test_relative_cwd",
        IT + "test_security.py::test_cwd_through_proc_self_fd",
        PLAN + "test_cwd_is_made",
        "cwd.bats",
    ], ""),
    (FEATURE, "process.user: uid, gid, additionalGids, umask", [
        IT + "test_process.py::test_user_and_groups",
        IT + "test_process.py::test_id_output",
        IT + "test_process.py::test_root_has_no_supplementary_groups",
        IT + "test_process.py::test_umask_",
        PLAN + "test_identity_change_order",
        PLAN + "test_no_additional_gids",
        "umask.bats",
        "start_hello.bats:{u,g}id != 0",
        "start_detached.bats:{u,g}id != 0",
    ], ""),
    (FEATURE, "process: clean start (only stdio and preserved fds, default signal state)", [
        IT + "test_stdio.py::test_container_sees_only_stdio",
        IT + "test_stdio.py::test_signal_",
        IT + "test_exec.py::test_exec_sees_only_stdio",
        PLAN + "test_inherited_fds_closed_first",
        PLAN + "test_preserved_fds_are_kept",
    ], "runc behaviour"),
    (FEATURE, "process.terminal, console socket", [
        IT + "test_terminal.py",
        IT + "test_bad_input.py::test_terminal_",
        IT + "test_bad_input.py::test_console_socket_",
        "tty.bats",
    ], ""),
    (FEATURE, "process.capabilities", [
        IT + "test_process.py::test_default_capabilities",
        IT + "test_process.py::test_capabilities_",
        IT + "test_process.py::test_no_capabilities",
        IT + "test_process.py::test_unknown_capability",
        IT + "test_security.py::test_no_inheritable_capabilities",
        PLAN + "test_bounding_set",
        PLAN + "test_capset_masks",
        PLAN + "test_no_capabilities_object",
        PLAN + "test_capabilities_",
        PLAN + "test_ambient_",
    ], ""),
    (FEATURE, "process.noNewPrivileges", [
        IT + "test_process.py::test_no_new_privileges",
        PLAN + "test_no_new_privs",
    ], ""),
    (FEATURE, "process.rlimits", [
        IT + "test_process.py::test_default_rlimit_nofile",
        IT + "test_process.py::test_rlimit",
        IT + "test_bad_input.py::test_unknown_rlimit",
        IT + "test_bad_input.py::test_rlimit_above",
        PLAN + "test_rlimits_",
    ], ""),
    (FEATURE, "process.oomScoreAdj", [
        IT + "test_process.py::test_oom_score_adj",
        PLAN + "test_oom_score_adj",
    ], ""),
    (FEATURE, "process.apparmorProfile, selinuxLabel, linux.mountLabel", [], "AppArmor refused; SELinux labels ignored with a warning where SELinux is off (as crun)"),
    (FEATURE, "process.scheduler, ioPriority, execCPUAffinity", [], "refused with an error until implemented"),
    (FEATURE, "root: path, readonly (pivot_root, --no-pivot)", [
        IT + "test_filesystem.py::test_readonly_root",
        IT + "test_filesystem.py::test_writable_root",
        IT + "test_filesystem.py::test_root_path_",
        IT + "test_filesystem.py::test_bundle_is_rootfs",
        IT + "test_filesystem.py::test_rootfs_stays_unchanged",
        IT + "test_bad_input.py::test_missing_rootfs",
        PLAN + "test_readonly_root_",
        PLAN + "test_writable_root_",
        PLAN + "test_pivot_root_sequence",
        PLAN + "test_no_pivot_",
        "start_hello.bats:rootfs set to .",
        "no_pivot.bats",
    ], ""),
    (FEATURE, "linux.rootfsPropagation", [
        PLAN + "test_root_propagation_",
        PLAN + "test_rootfs_propagation_",
        IT + "test_filesystem.py::test_rootfs_propagation",
    ], ""),
    (FEATURE, "mounts (bind, tmpfs, cgroup, options, propagation)", [
        IT + "test_filesystem.py::test_tmpfs_mount_options",
        IT + "test_filesystem.py::test_bind_mount",
        IT + "test_filesystem.py::test_mount_",
        IT + "test_security.py::test_mount_destination_dotdot",
        IT + "test_security.py::test_rootfs_proc_or_sys_symlink_refused",
        IT + "test_bad_input.py::test_bad_mount_type",
        IT + "test_bad_input.py::test_bind_mount_of_missing_source",
        PLAN + "test_default_mounts_",
        PLAN + "test_mounts_follow",
        PLAN + "test_missing_destination_",
        PLAN + "test_file_bind_source",
        PLAN + "test_bind_",
        PLAN + "test_recursive_read_only",
        PLAN + "test_propagation_on_",
        PLAN + "test_plan_makes_no_directory",
        PLAN + "test_symlinked_",
        PLAN + "test_cgroup_mount_",
        PLAN + "test_plan_uses_the_hosts_cgroup_layout",
        PLAN + "test_mount_options_",
        "mounts.bats",
        "mounts_recursive.bats",
        "mounts_sshfs.bats",
    ], ""),
    (FEATURE, "linux.namespaces (pid, network, ipc, uts, mount, cgroup; join by path)", [
        IT + "test_namespaces.py::test_pid_one_inside",
        IT + "test_namespaces.py::test_network_namespace",
        IT + "test_namespaces.py::test_namespaces_differ",
        IT + "test_namespaces.py::test_no_namespace_entry",
        IT + "test_namespaces.py::test_no_pid_namespace",
        IT + "test_namespaces.py::test_join_namespaces_by_path",
        IT + "test_namespaces.py::test_namespace_path_of_wrong_type",
        IT + "test_exec.py::test_exec_runs_in_the_container_namespaces",
        PLAN + "test_default_namespaces_",
        PLAN + "test_unshare_flags_",
        PLAN + "test_namespace_",
        PLAN + "test_without_mount_namespace",
        "start_hello.bats:host pidns",
    ], ""),
    (FEATURE, "hostname, domainname", [
        IT + "test_namespaces.py::test_hostname",
        IT + "test_namespaces.py::test_domainname",
        PLAN + "test_hostname_",
        PLAN + "test_no_hostname",
    ], ""),
    (FEATURE, "user namespace: uidMappings, gidMappings", ["userns.bats"],
     "refused with an error (never run as real root) until implemented"),
    (FEATURE, "time namespace: timeOffsets", [], "refused with an error until implemented"),
    (FEATURE, "linux.devices, default devices", [
        IT + "test_filesystem.py::test_default_dev",
        IT + "test_filesystem.py::test_dev_null_works",
        IT + "test_filesystem.py::test_linux_devices",
        IT + "test_security.py::test_rootfs_dev_symlink",
        PLAN + "test_default_devices_",
        PLAN + "test_dev_links",
        PLAN + "test_linux_devices_",
        PLAN + "test_a_configured_default_device",
        PLAN + "test_bind_mounted_dev_",
        "dev.bats:redundant default",
    ], ""),
    (FEATURE, "linux.maskedPaths, readonlyPaths", [
        IT + "test_filesystem.py::test_default_masked_paths",
        IT + "test_filesystem.py::test_masked_paths_custom",
        IT + "test_filesystem.py::test_readonly_paths",
        IT + "test_filesystem.py::test_default_readonly_paths",
        IT + "test_security.py::test_masked_path_",
        PLAN + "test_masked_",
        PLAN + "test_missing_masked_",
        PLAN + "test_readonly_paths_",
        "mask.bats",
    ], ""),
    (FEATURE, "hooks", [
        IT + "test_hooks.py",
        PLAN + "test_hook_points",
        PLAN + "test_without_hooks_",
        PLAN + "test_any_hook_makes_",
        PLAN + "test_a_seccomp_agent_makes_",
        "hooks.bats",
    ], ""),
    (FEATURE, "cgroups: cgroupsPath, linux.resources, cgroup managers", [
        "test_cgroups",  # tests/unit/test_cgroups.py and the integration tests of that name
        "tests/cgroup2/",  # run on a pure cgroup v2 host (skipped elsewhere)
        "cgroups.bats",
        "cgroup_delegation.bats",
        "dev.bats:device cgroup",
        "run.bats:cgroup",
        "delete.bats:subcgroups",
        "exec.bats:--cgroup",
    ], ""),
    (FEATURE, "linux.seccomp", [
        "test_seccomp",  # tests/unit/test_seccomp.py (the BPF compiler) and tests/integration/test_seccomp*.py
        "seccomp.bats",
        "seccomp-notify.bats",
        "seccomp-notify-compat.bats",
        "start_hello.bats:seccomp",
    ], ""),
    (FEATURE, "linux.sysctl", [PLAN + "test_sysctls_"], ""),
    (FEATURE, "linux.personality", [], "refused with an error until implemented"),
    (FEATURE, "linux.intelRdt", [], "refused with an error until implemented"),
    (FEATURE, "linux.netDevices", [], "refused with an error until implemented"),
    (FEATURE, "linux.memoryPolicy", [], "refused with an error until implemented"),
    (FEATURE, "idmapped mounts: mounts[].uidMappings, gidMappings", [], "refused with an error until implemented"),
    # -- engines that exec pyrunc as their runtime binary (callers.md) --------
    (ENGINE, "podman 4.3 + conmon 2.1 (`podman --runtime`)", [ENG + "test_podman.py"],
     "run, exec, tty, pause, stop, start, kill, limits; Debian 12 packages"),
    (ENGINE, "containerd 1.6 + runc v2 shim (`ctr run --runc-binary`)", [ENG + "test_containerd.py"],
     "run, exec, ps, pause, kill, delete, tty; Debian 12 packages"),
    (ENGINE, "docker 20.10 (dockerd, its containerd, the runc v2 shim)", [ENG + "test_docker.py"],
     "run, exec, top, update, stop, tty, errors, prestart hook; Debian 12's docker.io, unpacked"),
]

PASSED, FAILED, XFAILED, SKIPPED = "passed", "failed", "xfailed", "skipped"
_RANK = {SKIPPED: 0, PASSED: 1, XFAILED: 2, FAILED: 3}


# -- reading results -----------------------------------------------------------


def _module_path(classname: str, repo: Path) -> tuple[str, list[str]]:
    """tests.unit.test_x.TestY -> ("tests/unit/test_x.py", ["TestY"])."""
    parts = classname.split(".")
    for k in range(len(parts), 0, -1):
        candidate = "/".join(parts[:k]) + ".py"
        if (repo / candidate).is_file():
            return candidate, parts[k:]
    # not in this checkout: trailing CapWords parts are classes
    k = len(parts)
    while k > 1 and parts[k - 1][:1].isupper():
        k -= 1
    return "/".join(parts[:k]) + ".py", parts[k:]


def read_junit(path, repo: Path = REPO) -> dict[str, str]:
    """pytest node id -> passed | failed | xfailed | skipped (the worst when a
    test appears more than once, e.g. a teardown error after a pass)."""
    results: dict[str, str] = {}
    root = ET.parse(path).getroot()
    for case in root.iter("testcase"):
        name = case.get("name", "")
        classname = case.get("classname", "")
        file_attr = case.get("file")
        module, classes = _module_path(classname, repo)
        if file_attr and not (repo / module).is_file():
            module = file_attr
        node = "::".join([module, *classes, name])
        outcome = PASSED
        for child in case:
            tag = child.tag
            if tag in ("failure", "error"):
                outcome = FAILED
                break
            if tag == "skipped":
                outcome = XFAILED if child.get("type") == "pytest.xfail" else SKIPPED
        if node not in results or _RANK[outcome] > _RANK[results[node]]:
            results[node] = outcome
    return results


def read_bats(path) -> dict[tuple[str, str], str]:
    """(file, test name) -> passed | failed | xfailed | skipped, from runc-bats' results.tsv."""
    status_map = {"pass": PASSED, "fail": FAILED, "xfail": XFAILED, "skip": SKIPPED}
    results: dict[tuple[str, str], str] = {}
    with open(path, newline="", encoding="utf-8") as f:
        for i, row in enumerate(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)):
            if not row or (i == 0 and row[0] == "file"):
                continue
            if len(row) < 3:
                raise ValueError(f"{path}:{i + 1}: expected file, status, test, detail")
            file, status, test = row[0], row[1], row[2]
            outcome = status_map.get(status)
            if outcome is None:
                raise ValueError(f"{path}:{i + 1}: unknown status {status!r}")
            key = (file, test)
            if key not in results or _RANK[outcome] > _RANK[results[key]]:
                results[key] = outcome
    return results


# -- matching and status ---------------------------------------------------------


def is_bats(pattern: str) -> bool:
    return ".bats" in pattern.split(":", 1)[0]


def match_pytest(pattern: str, node: str) -> bool:
    if pattern.startswith("tests/"):
        return node.startswith(pattern)
    return pattern in node


def match_bats(pattern: str, key: tuple[str, str]) -> bool:
    file, _, text = pattern.partition(":")
    if not file.endswith(".bats"):
        file += ".bats"
    return key[0] == file and text in key[1]


class Result:
    def __init__(self, kind, name, evidence, note, status, passed, ran, skipped, failing, sources, unit_only,
                 missing_command):
        self.kind, self.name, self.evidence, self.note = kind, name, evidence, note
        self.status, self.passed, self.ran, self.skipped = status, passed, ran, skipped
        self.failing, self.sources, self.unit_only = failing, sources, unit_only
        self.missing_command = missing_command

    def status_text(self) -> str:
        if self.missing_command:
            return "not yet (no command)"
        if self.ran == 0:
            return "not yet (no tests)" if not self.skipped else "not yet (none ran)"
        noun = "test" if self.ran == 1 else "tests"
        return f"{self.status} ({self.passed}/{self.ran} {noun})"


def command_exists(name: str, repo: Path = REPO) -> bool:
    """pyrunc/commands/<name>.py, or the function the command table names as the
    command's handler (state, start, kill, delete)."""
    if (repo / "pyrunc" / "commands" / f"{name}.py").is_file():
        return True
    handler = table_handlers(repo).get(name)
    if handler is None:
        return False
    module, _, function = handler.partition(":")
    path = repo.joinpath(*module.split(".")).with_suffix(".py")
    try:
        tree = ast.parse(path.read_text())
    except (OSError, SyntaxError):
        return False
    return any(isinstance(n, ast.FunctionDef) and n.name == function for n in tree.body)


def table_handlers(repo: Path = REPO) -> dict[str, str]:
    """{command: "module:function"} from pyrunc/cli/table.py's COMMANDS, read as
    source (the table is plain data; pyrunc is not imported)."""
    try:
        tree = ast.parse((repo / "pyrunc" / "cli" / "table.py").read_text())
    except (OSError, SyntaxError):
        return {}
    out = {}
    for node in tree.body:
        if not (isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "COMMANDS" for t in node.targets)):
            continue
        if not isinstance(node.value, ast.Dict):
            continue
        for key, value in zip(node.value.keys, node.value.values):
            if not (isinstance(key, ast.Constant) and isinstance(value, ast.Dict)):
                continue
            for k, v in zip(value.keys, value.values):
                if isinstance(k, ast.Constant) and k.value == "handler" and isinstance(v, ast.Constant):
                    out[key.value] = v.value
    return out


def evaluate(row, junit: dict, bats: dict | None, repo: Path = REPO) -> Result:
    kind, name, evidence, note = row
    matched: dict[str, tuple[str, str]] = {}  # label -> (outcome, source)
    for pattern in evidence:
        if is_bats(pattern):
            for key, outcome in (bats or {}).items():
                if match_bats(pattern, key):
                    matched[f"{key[0]}: {key[1]}"] = (outcome, key[0])
        else:
            for node, outcome in junit.items():
                if match_pytest(pattern, node):
                    matched[node] = (outcome, node.split("::", 1)[0])
    passed = sum(1 for o, _ in matched.values() if o == PASSED)
    skipped = sum(1 for o, _ in matched.values() if o == SKIPPED)
    ran = len(matched) - skipped
    failing = [label for label, (o, _) in matched.items() if o in (FAILED, XFAILED)]
    sources: dict[str, int] = {}
    for o, src in matched.values():
        if o != SKIPPED:
            sources[src] = sources.get(src, 0) + 1
    unit_only = ran > 0 and all(src.startswith(UNIT) for src in sources)
    missing = kind == COMMAND and " " not in name and not command_exists(name, repo)
    if missing or passed == 0:
        status = "not yet"
    elif passed == ran:
        status = "works"
    else:
        status = "partial"
    return Result(kind, name, evidence, note, status, passed, ran, skipped, failing, sources, unit_only, missing)


def evaluate_all(junit, bats, repo: Path = REPO, rows=None) -> list[Result]:
    return [evaluate(r, junit, bats, repo) for r in (ROWS if rows is None else rows)]


# -- rendering ---------------------------------------------------------------------


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _short(label: str) -> str:
    # tests/integration/test_x.py::test_y[p] -> test_x.py::test_y[p]
    return label.rsplit("/", 1)[-1] if label.startswith("tests/") else label


def _notes(r: Result) -> str:
    parts = [r.note] if r.note else []
    if r.missing_command:
        parts.append(f'`pyrunc {r.name}`: "not supported by pyrunc yet"')
    if r.unit_only:
        parts.append("unit tests only (no container run)")
    if r.failing:
        shown = ", ".join(f"`{_short(f)}`" for f in r.failing[:2])
        more = len(r.failing) - 2
        parts.append(f"failing: {shown}" + (f" (+{more} more)" if more > 0 else ""))
    if r.skipped:
        parts.append(f"{r.skipped} skipped")
    return "; ".join(parts)


def _sources(r: Result) -> str:
    if not r.sources:
        return "—"
    base = [src.rsplit("/", 1)[-1] for src in r.sources]
    # a file's base name, or its path under tests/ when two share a base name
    names = [b if base.count(b) == 1 else src.removeprefix("tests/") for b, src in zip(base, r.sources)]
    return ", ".join(f"{name} {n}" for name, n in zip(names, r.sources.values()))


def _summary(results: dict, what: str) -> str:
    counts = {PASSED: 0, FAILED: 0, XFAILED: 0, SKIPPED: 0}
    for o in results.values():
        counts[o] += 1
    if what == "bats":  # a listed expected failure is still a failure
        text = f"{counts[PASSED]} passed, {counts[FAILED] + counts[XFAILED]} failed"
        if counts[XFAILED]:
            text += f" ({counts[XFAILED]} of them listed as expected)"
    else:
        text = f"{counts[PASSED]} passed, {counts[FAILED]} failed"
        if counts[XFAILED]:
            text += f", {counts[XFAILED]} xfailed"
    return text + f", {counts[SKIPPED]} skipped"


def render(results: list[Result], junit: dict, bats: dict | None) -> str:
    lines = [
        "Computed by `scripts/compat-table.py` from the test results, not written by hand:",
        "**works**: every mapped test passed; **partial**: some passed, some failed;",
        "**not yet**: none passed, none ran, or the command is missing. Counts are passed/ran",
        "(skipped tests are not counted); the mapping of tests to rows is `ROWS` in the script.",
        "",
        f"Evidence: pytest ({_summary(junit, 'pytest')})"
        + (f"; runc-bats, runc 1.1.5's suite ({_summary(bats, 'bats')})." if bats is not None
           else "; runc-bats not included."),
    ]
    for kind, title in ((COMMAND, "runc commands"), (FEATURE, "runtime-spec features"),
                        (ENGINE, "engines driving pyrunc")):
        lines += ["", f"**{title}**", "", "| | status | evidence (tests that ran) | notes |", "|---|---|---|---|"]
        for r in results:
            if r.kind != kind:
                continue
            name = f"`{r.name}`" if kind == COMMAND and " " not in r.name else r.name
            lines.append(f"| {_cell(name)} | {_cell(r.status_text())} | {_cell(_sources(r))} | {_cell(_notes(r))} |")
    lines.append("")
    lines.append("Regenerate: `python3 scripts/compat-table.py --junit JUNIT.xml --bats results.tsv --write README.md`"
                 " (`--check README.md` in CI).")
    return "\n".join(lines) + "\n"


# -- README region -------------------------------------------------------------------


def _region(text: str) -> tuple[int, int]:
    start = text.find(START)
    end = text.find(END)
    if start < 0 or end < 0 or end < start:
        raise ValueError(f"markers {START} ... {END} not found (in that order)")
    return start + len(START), end


def replace_region(text: str, table: str) -> str:
    a, b = _region(text)
    return text[:a] + "\n" + table.rstrip("\n") + "\n" + text[b:]


def current_region(text: str) -> str:
    a, b = _region(text)
    return text[a:b].strip("\n")


# -- command line ----------------------------------------------------------------------


def run_tests(python: str, repo: Path, junit_path: str) -> None:
    cmd = [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={junit_path}", "tests"]
    print("running: " + " ".join(cmd), file=sys.stderr)
    proc = subprocess.run(cmd, cwd=repo)
    # 0: all passed, 1: some failed (both are evidence); anything else is not
    if proc.returncode not in (0, 1) or not os.path.exists(junit_path):
        raise SystemExit(f"compat-table: pytest exited {proc.returncode} without usable results")


def unmapped(junit: dict, rows=None) -> list[str]:
    patterns = [p for r in (ROWS if rows is None else rows) for p in r[2] if not is_bats(p)]
    return [n for n in junit if not any(match_pytest(p, n) for p in patterns)]


def stale_patterns(junit: dict, rows=None) -> list[str]:
    """pytest patterns that match no test in the results (renamed or removed tests)."""
    patterns = [p for r in (ROWS if rows is None else rows) for p in r[2] if not is_bats(p)]
    return [p for p in dict.fromkeys(patterns) if not any(match_pytest(p, n) for n in junit)]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--junit", metavar="FILE", help="pytest JUnit XML (pytest --junitxml=FILE)")
    ap.add_argument("--bats", metavar="FILE", help="runc-bats results.tsv")
    ap.add_argument("--run-tests", action="store_true", help="run the pytest suite first (instead of --junit)")
    ap.add_argument("--python", default=sys.executable, help="python for --run-tests (default: this one)")
    ap.add_argument("--repo", default=str(REPO), help=argparse.SUPPRESS)
    ap.add_argument("--print", action="store_true", dest="print_", help="print the Markdown table")
    ap.add_argument("--write", metavar="README", help="replace the table between the compat-table markers")
    ap.add_argument("--check", metavar="README", help="exit 1 if the README's table differs")
    ap.add_argument("--unmapped", action="store_true", help="list tests that no row counts")
    args = ap.parse_args(argv)
    repo = Path(args.repo)

    if args.junit and args.run_tests:
        ap.error("--junit and --run-tests exclude each other")
    tmpdir = None
    try:
        if args.run_tests:
            tmpdir = tempfile.mkdtemp(prefix="compat-table-")
            junit_path = os.path.join(tmpdir, "junit.xml")
            run_tests(args.python, repo, junit_path)
        elif args.junit:
            junit_path = args.junit
        else:
            ap.error("--junit FILE is required (or --run-tests to run the suite)")
        try:
            junit = read_junit(junit_path, repo)
            bats = read_bats(args.bats) if args.bats else None
        except (OSError, ET.ParseError, ValueError, csv.Error) as e:
            print(f"compat-table: {e}", file=sys.stderr)
            return 2
    finally:
        if tmpdir:
            shutil.rmtree(tmpdir, ignore_errors=True)

    for p in stale_patterns(junit):
        print(f"compat-table: warning: no test in the JUnit results matches {p!r}", file=sys.stderr)

    if args.unmapped:
        for n in unmapped(junit):
            print(n)
        if not (args.print_ or args.write or args.check):
            return 0

    table = render(evaluate_all(junit, bats, repo), junit, bats)
    status = 0
    if args.print_ or not (args.write or args.check):
        sys.stdout.write(table)
    if args.write:
        path = Path(args.write)
        try:
            path.write_text(replace_region(path.read_text(encoding="utf-8"), table), encoding="utf-8")
        except (OSError, ValueError) as e:
            print(f"compat-table: {args.write}: {e}", file=sys.stderr)
            return 2
    if args.check:
        try:
            have = current_region(Path(args.check).read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            print(f"compat-table: {args.check}: {e}", file=sys.stderr)
            return 2
        want = table.strip("\n")
        if have != want:
            diff = difflib.unified_diff(have.splitlines(), want.splitlines(), f"{args.check} (now)",
                                        "from the test results", lineterm="")
            print(f"compat-table: {args.check}'s table is out of date:", file=sys.stderr)
            print("\n".join(diff), file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
