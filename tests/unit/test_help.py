"""/help and /about cards: built from command entries and plain values, within Discord's embed limits."""

from bot.domain.card import EMBED_FIELD_COUNT_LIMIT, EMBED_FIELD_LIMIT, EMBED_TOTAL_LIMIT, Card
from bot.domain.help import HELP_CUT, CommandEntry, about_card, help_card, help_sections


def fits(card: Card) -> bool:
    """Whether every field and the whole card fit Discord's limits."""
    return (
        card.total_length() <= EMBED_TOTAL_LIMIT
        and len(card.fields) <= EMBED_FIELD_COUNT_LIMIT
        and all(len(value) <= EMBED_FIELD_LIMIT for _, value in card.fields)
    )


def test_sections_group_sort_and_mark_admin_commands() -> None:
    """General comes first; an admin command inside a members' group is marked on its line."""
    entries = [
        CommandEntry("pdoom open", "Open a poll round.", "/pdoom", admin_only=True),
        CommandEntry("about", "Show the bot's version.", "General"),
        CommandEntry("help", "List commands.", "General"),
        CommandEntry("pdoom mine", "Your estimates.", "/pdoom"),
    ]
    sections = help_sections(entries)
    assert [title for title, _ in sections] == ["General", "/pdoom"]
    pdoom = sections[1][1].splitlines()
    assert pdoom[0].startswith("`/pdoom mine`")
    assert pdoom[1] == "`/pdoom open` Open a poll round. *(admins)*"
    assert "*(admins)*" not in sections[0][1]


def test_admin_groups_are_their_own_sections_after_the_members() -> None:
    """A group whose commands are all for admins is its own section, titled for admins, listed last."""
    entries = [
        CommandEntry("prompts-admin add", "Add a prompt.", "/prompts-admin", admin_only=True),
        CommandEntry("pdoom-admin open", "Open a round.", "/pdoom-admin", admin_only=True),
        CommandEntry("pdoom vote", "Give your estimate.", "/pdoom"),
        CommandEntry("help", "List commands.", "General"),
        CommandEntry("prompts list", "See the queue.", "/prompts"),
    ]
    sections = help_sections(entries)
    assert [title for title, _ in sections] == [
        "General",
        "/pdoom",
        "/prompts",
        "/pdoom-admin · for admins",
        "/prompts-admin · for admins",
    ]
    assert sections[3][1] == "`/pdoom-admin open` Open a round."  # the title says it; no mark on each line


def test_many_commands_split_into_fields_within_limits() -> None:
    """A section too long for one embed field continues in another, and no field breaks the limit."""
    entries = [CommandEntry(f"cmd{i:03d}", "d" * 80, "General") for i in range(60)]
    sections = help_sections(entries)
    assert len(sections) > 1
    assert sections[1][0] == "General (continued)"
    assert all(len(text) <= EMBED_FIELD_LIMIT for _, text in sections)
    assert sum(text.count("`/cmd") for _, text in sections) == 60


def bot_sized_entries(count: int) -> list[CommandEntry]:
    """`count` commands with long descriptions, spread over members' and admins' groups like the bot's."""
    groups = ["General", "/pdoom", "/prompts", "/pdoom-admin", "/prompts-admin", "/content"]
    return [
        CommandEntry(
            f"{groups[i % 6].strip('/') if i % 6 else ''} command-number-{i}".strip(),
            "A description long enough to need cutting, as the longest ones are. " * 2,
            groups[i % 6],
            admin_only=groups[i % 6].endswith(("admin", "content")),
        )
        for i in range(count)
    ]


def test_help_card_lists_35_commands_in_full_within_limits() -> None:
    """About the bot's 35 commands, each with its description cut to 90 characters, fit one card."""
    card = help_card(bot_sized_entries(35))
    assert fits(card)
    text = "\n".join(value for _, value in card.fields)
    assert text.count("`/") == 35
    assert card.footer is None
    assert max(len(line) for line in text.splitlines()) > 90  # descriptions were not shortened further


def test_help_card_shortens_descriptions_before_leaving_commands_out() -> None:
    """70 commands fit by cutting descriptions; 400 can't fit even by name, so some are left out, and it says so."""
    seventy = help_card(bot_sized_entries(70))
    assert fits(seventy) and seventy.footer is None
    assert "\n".join(value for _, value in seventy.fields).count("`/") == 70
    huge = help_card(bot_sized_entries(400))
    assert fits(huge)
    assert huge.footer == HELP_CUT


def test_about_card_from_plain_values() -> None:
    """The about card shows the version, a readable uptime, the server count, content counts and links."""
    stats = {"concepts": 34, "readings": 70, "steps": 6, "estimates": 12, "prompts": 40}
    card = about_card(
        version="1.2.3", uptime_seconds=3_700, servers=4, stats=stats, source_url="https://example.org/src"
    )
    fields = dict(card.fields)
    assert (fields["Version"], fields["Uptime"], fields["Servers"]) == ("1.2.3", "1 h 1 min", "4")
    assert fields["Content"].startswith("34 concepts · 70 readings · 6 essay steps")
    assert "[Source code](https://example.org/src)" in fields["Links"]
    assert "Source code" not in dict(about_card(version="1", uptime_seconds=0, servers=0, stats=stats).fields)["Links"]


def test_about_says_when_it_counts_only_its_own_shards_servers() -> None:
    """A process running some of the shards knows only their servers, and says so rather than under-count."""
    card = about_card(version="1", uptime_seconds=0, servers=3, stats={}, own_shards="0-1 of 4")
    assert dict(card.fields)["Servers"] == "3 on shards 0-1 of 4 (this process)"
    assert fits(card)
