"""Text helpers: truncation, packing lines into chunks, durations, escaping markdown."""

import pytest

from bot.domain.text import escape_markdown, format_duration, pack_lines, permission_name, truncate


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [("short", 10, "short"), ("exactly10!", 10, "exactly10!"), ("a longer sentence", 9, "a longer…"), ("abc", 1, "…")],
)
def test_truncate(text: str, limit: int, expected: str) -> None:
    """Text longer than the limit is cut and ends in an ellipsis, never exceeding the limit."""
    assert truncate(text, limit) == expected
    assert len(truncate(text, limit)) <= limit


def test_pack_lines_respects_limit_and_keeps_order() -> None:
    """Lines are packed greedily into chunks no longer than the limit, in order, with nothing lost."""
    lines = [f"line {i:02d}" for i in range(30)]
    chunks = pack_lines(lines, 50)
    assert all(len(chunk) <= 50 for chunk in chunks)
    assert "\n".join(chunks).split("\n") == lines


def test_pack_lines_truncates_a_single_overlong_line() -> None:
    """A line longer than the limit on its own is truncated rather than breaking the limit."""
    assert pack_lines(["x" * 80], 20) == ["x" * 19 + "…"]


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0, "0 s"),
        (59.9, "59 s"),
        (60, "1 min"),
        (3_599, "59 min"),
        (3_600, "1 h 0 min"),
        (90_000, "1 d 1 h"),
        (-5, "0 s"),
    ],
)
def test_format_duration(seconds: float, expected: str) -> None:
    """Durations read naturally at every scale."""
    assert format_duration(seconds) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("**bold** and _it_", r"\*\*bold\*\* and \_it\_"),
        ("<@123> <#9> <t:0>", r"\<@123> \<#9> \<t:0>"),
        ("[click](https://evil.example)", r"\[click\](https://evil.example)"),
        ("`code` ~~gone~~ ||spoiler|| \\", r"\`code\` \~\~gone\~\~ \|\|spoiler\|\| \\"),
        ("goodharts-law.yaml: readings[1].url", r"goodharts-law.yaml: readings\[1\].url"),
    ],
)
def test_escape_markdown_shows_user_text_as_typed(text: str, expected: str) -> None:
    """Every character that starts inline formatting, a masked link or a mention is escaped; nothing else is."""
    assert escape_markdown(text) == expected


def test_permission_names_read_as_in_discords_settings() -> None:
    """One spelling of permission names everywhere: guild is "Server", small words stay small."""
    assert permission_name("manage_guild") == "Manage Server"
    assert permission_name("send_messages_in_threads") == "Send Messages in Threads"
    assert permission_name("view_channel") == "View Channel"
    assert permission_name("create_public_threads") == "Create Public Threads"
