"""The command line: clear one-sentence failures, and content check exit codes."""

import shlex
import subprocess
import sys
from pathlib import Path

from tests.processes import command_environment, run_command

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "content"


def run_bot(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Run `python -m bot ARGS` in `cwd` with only the given bot settings in the environment."""
    return run_command(*args, cwd=cwd, **env)


def test_without_token_exits_at_once_with_one_sentence(tmp_path: Path) -> None:
    """No token: a non-zero exit and one line naming DISCORD_TOKEN and .env.example, without a traceback."""
    result = run_bot(cwd=tmp_path)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "DISCORD_TOKEN" in lines[0] and ".env.example" in lines[0]
    assert "Traceback" not in result.stderr + result.stdout


def test_invalid_setting_is_named(tmp_path: Path) -> None:
    """A bad DEV_GUILD_ID fails start-up with a sentence naming it, and never prints the token."""
    result = run_bot(cwd=tmp_path, DISCORD_TOKEN="secret-token-value", DEV_GUILD_ID="abc")
    assert result.returncode != 0
    assert "Setting DEV_GUILD_ID is invalid" in result.stderr
    assert "secret-token-value" not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


def test_content_check_exit_codes(tmp_path: Path) -> None:
    """`content check` exits 0 on a valid folder and 1 with file:line messages on a broken one."""
    good = run_bot("content", "check", str(FIXTURES / "valid"), cwd=tmp_path)
    assert good.returncode == 0, good.stderr
    assert "valid" in good.stdout
    bad = run_bot("content", "check", str(FIXTURES / "broken" / "non-https-url"), cwd=tmp_path)
    assert bad.returncode == 1
    assert "readings.yaml:23: readings[3].url: must start with https://" in bad.stderr
    assert "error(s)" in bad.stderr


def test_content_show_prints_the_card(tmp_path: Path) -> None:
    """`content show` prints a concept's title, summary and readings as they will appear."""
    result = run_bot("content", "show", "goodhart", cwd=tmp_path, CONTENT_DIR=str(FIXTURES / "valid"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Goodhart's law\n")
    assert "Read more" in result.stdout


def test_content_show_suggests_the_nearest_ids(tmp_path: Path) -> None:
    """An unknown id is answered with the closest ids, or with every id when nothing is close; exit 1."""
    content = str(FIXTURES / "valid")
    typo = run_bot("content", "show", "goodhat", cwd=tmp_path, CONTENT_DIR=content)
    assert typo.returncode == 1
    assert typo.stderr.strip() == "No concept is called 'goodhat'. Did you mean goodharts-law (Goodhart's law)?"
    nonsense = run_bot("content", "show", "xyzzy", cwd=tmp_path, CONTENT_DIR=content)
    assert nonsense.returncode == 1
    assert nonsense.stderr.strip() == (
        "No concept is called 'xyzzy', nor anything close. "
        "The concept ids are: goodharts-law, king-midas, reward-hacking."
    )


def test_content_show_into_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    """`content show ID | head -1` prints the title and no BrokenPipeError, also when the reader leaves at once."""
    command = f"{shlex.quote(sys.executable)} -m bot content show king-midas"
    env = command_environment(CONTENT_DIR=str(ROOT / "content"))
    # `true` exits before the bot writes anything, so the write always meets a closed pipe; `head -1` is the
    # everyday case, where it depends on timing.
    for reader in ("head -1", "true"):
        result = subprocess.run(
            ["/bin/sh", "-c", f"{command} | {reader}"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr and "BrokenPipeError" not in result.stderr, result.stderr
        assert result.stdout == ("The King Midas problem\n" if reader == "head -1" else "")


def test_invalid_content_stops_start_up_with_every_error(tmp_path: Path) -> None:
    """With a token but broken content, the bot exits before connecting and lists the content errors."""
    result = run_bot(
        cwd=tmp_path,
        DISCORD_TOKEN="token-value",
        CONTENT_DIR=str(FIXTURES / "broken" / "non-https-url"),
        DATABASE_PATH=str(tmp_path / "db.sqlite3"),
    )
    assert result.returncode == 1
    assert "error" in result.stderr
    assert "readings[3].url: must start with https://" in result.stderr
    assert "Traceback" not in result.stderr


def test_content_check_refuses_an_alias_bomb_at_once(tmp_path: Path) -> None:
    """`content check` on a folder holding a billion-laughs file exits 1 with its file:line error, no traceback."""
    import shutil  # local: this file is shared, and this test is added without touching its header

    folder = tmp_path / "content"
    shutil.copytree(FIXTURES / "valid", folder)
    shutil.copy(FIXTURES / "broken" / "alias-bomb" / "concepts" / "king-midas.yaml", folder / "concepts")
    result = run_bot("content", "check", str(folder), cwd=tmp_path)
    assert result.returncode == 1
    assert "content/concepts/king-midas.yaml:3: uses an anchor (&a)" in result.stderr
    assert "Traceback" not in result.stderr
