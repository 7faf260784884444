"""The patches of Gradio's code (causerie/patches/): each checked against what it was written for
before it is applied, each switchable, and the app working on plain Gradio with them all off."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from causerie import patches
from causerie.config.settings import SettingsError, load_settings
from causerie.patches import Patch

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow  # (waits on real time or starts processes: not in the fast loop)
def test_every_patch_matches_the_installed_libraries_and_the_check_says_so():
    """The versions installed are the locked ones (requirements.txt): every patch was verified on
    them. After an upgrade, this names each patch that no longer matches."""
    done = subprocess.run([sys.executable, "-m", "causerie.patches"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    lines = done.stdout.splitlines()[1:]
    assert [line.split()[0] for line in lines] == patches.names()
    assert done.returncode == 0, done.stdout
    assert all(line.split()[1] == "matches" for line in lines)


def test_a_patch_whose_target_changed_is_left_out_and_said_once(caplog):
    from gradio import utils

    applied = []
    changed = Patch(
        name="test_changed",
        replaces=("gradio.utils:diff",),
        reads={"gradio.utils:diff": "0" * 16},
        verified_on="gradio 0.0",
        buys="nothing",
        upstream="none",
        apply=applied.append,
    )
    same = Patch(
        name="test_same",
        replaces=("gradio.utils:diff",),
        reads={"gradio.utils:diff": patches.source_digest("gradio.utils:diff")},
        verified_on="gradio 6.31.0",
        buys="nothing",
        upstream="none",
        apply=applied.append,
    )
    before = utils.diff
    with caplog.at_level(logging.WARNING, logger="causerie.patches"):
        for _ in range(2):
            assert patches.apply("app", {"test_changed", "test_same"}, [changed, same]) == ["test_same"]
    assert applied == ["app", "app"] and utils.diff is before
    said = [r.getMessage() for r in caplog.records if "test_changed" in r.getMessage()]
    assert said == [
        "Patch test_changed is not applied: gradio.utils:diff changed since gradio 0.0 "
        "(python -m causerie.patches names what changed)"
    ]
    assert changed.changed() == ["gradio.utils:diff"] and same.changed() == []
    gone = Patch(
        name="test_gone",
        replaces=(),
        reads={"gradio.utils:no_such_function": "0" * 16},
        verified_on="x",
        buys="",
        upstream="",
        apply=applied.append,
    )
    assert gone.changed() == ["gradio.utils:no_such_function"]


def test_causerie_patches_chooses_which_and_an_unknown_name_says_what_to_write():
    every = set(patches.names())
    assert load_settings({"CAUSERIE_ENV_FILE": ""}).patches == every
    assert load_settings({"CAUSERIE_ENV_FILE": "", "CAUSERIE_PATCHES": "off"}).patches == set()
    assert load_settings({"CAUSERIE_ENV_FILE": "", "CAUSERIE_PATCHES": "-queue_loop, -login_check"}).patches == every - {
        "queue_loop",
        "login_check",
    }
    assert load_settings({"CAUSERIE_ENV_FILE": "", "CAUSERIE_PATCHES": "stream_diff"}).patches == {"stream_diff"}
    with pytest.raises(SettingsError) as refused:
        load_settings({"CAUSERIE_ENV_FILE": "", "CAUSERIE_PATCHES": "queue_loops"})
    assert "CAUSERIE_PATCHES: no patch is named queue_loops" in str(refused.value) and "queue_loop," in str(refused.value)
    with pytest.raises(SettingsError, match="not both"):
        load_settings({"CAUSERIE_ENV_FILE": "", "CAUSERIE_PATCHES": "stream_diff,-queue_loop"})


def test_every_patch_says_what_it_replaces_buys_and_where_it_was_verified():
    for patch in patches.all_patches():
        assert patch.replaces and patch.reads and patch.buys and patch.upstream, patch.name
        assert patch.verified_on.startswith("gradio "), patch.name
        module = sys.modules[patch.apply.__module__]
        assert module.__doc__ and module.__file__.endswith(f"{patch.name}.py"), patch.name


@pytest.mark.browser
def test_with_every_patch_off_the_app_serves_its_api_and_its_page_on_plain_gradio(tmp_path):
    """The patches make the app cheaper, never correct: with CAUSERIE_PATCHES=off nothing of
    Gradio is replaced, and the API tests and browser tests of Stop, Retry, Undo, Edit and the bin pass."""
    env = {**os.environ, "CAUSERIE_PATCHES": "off"}
    plain = subprocess.run(
        [
            sys.executable,
            "-c",
            """
import causerie.ui, gradio.utils, gradio.queueing, gradio.state_holder
from causerie.answering.service import ChatService
from causerie.config.settings import load_settings
causerie.ui.build_demo(ChatService(load_settings()))
replaced = [f for f in (gradio.utils.diff, gradio.queueing.Queue.start_processing, gradio.queueing.Queue.push,
            gradio.state_holder.SessionState.__init__, gradio.state_holder.StateHolder.delete_all_expired_state)
            if 'causerie' in f.__code__.co_filename]
import gradio.component_meta as meta
assert 'causerie' not in meta.create_or_modify_pyi.__code__.co_filename
print('replaced:', replaced)
""",
        ],
        cwd=ROOT,
        env={**env, "CAUSERIE_ENV_FILE": "", "CAUSERIE_DATA_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert plain.returncode == 0 and "replaced: []" in plain.stdout, plain.stderr[-2000:]
    tests = [
        "tests/test_app_api.py",
        "tests/test_browser.py::test_stop_closes_upstream_and_keeps_partial_answer",
        "tests/test_browser.py::test_retry_undo_edit_and_clear",
    ]
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *tests],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout[-4000:]
    assert " passed" in run.stdout.splitlines()[-1] and "2 skipped" in run.stdout.splitlines()[-1]
