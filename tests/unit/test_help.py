"""The /help listing is built from command entries and fits Discord's embed fields."""

from bot.domain.help import FIELD_VALUE_LIMIT, CommandEntry, help_sections


def test_sections_group_sort_and_mark_admin_commands() -> None:
    """Commands are grouped by section, sorted by name, and admin-only ones are marked."""
    entries = [
        CommandEntry("pdoom open", "Open a poll round.", "/pdoom", admin_only=True),
        CommandEntry("about", "Show the bot's version.", "General"),
        CommandEntry("help", "List commands.", "General"),
        CommandEntry("pdoom mine", "Your estimates.", "/pdoom"),
    ]
    sections = help_sections(entries)
    assert [title for title, _ in sections] == ["/pdoom", "General"]
    pdoom = sections[0][1].splitlines()
    assert pdoom[0].startswith("`/pdoom mine`")
    assert pdoom[1] == "`/pdoom open` Open a poll round. *(admins)*"
    assert "*(admins)*" not in sections[1][1]


def test_many_commands_split_into_fields_within_limits() -> None:
    """A section too long for one embed field continues in another, and no field breaks the limit."""
    entries = [CommandEntry(f"cmd{i:03d}", "d" * 80, "General") for i in range(60)]
    sections = help_sections(entries)
    assert len(sections) > 1
    assert sections[1][0] == "General (continued)"
    assert all(len(text) <= FIELD_VALUE_LIMIT for _, text in sections)
    assert sum(text.count("`/cmd") for _, text in sections) == 60
