"""The gateway websocket: HELLO / IDENTIFY / READY / GUILD_CREATE / heartbeats / RESUME.

Frames are always sent as plain JSON *text* frames. discord.py asks for ``compress=zlib-stream``
but its ``received_message`` only decompresses ``bytes`` frames and parses ``str`` frames as
JSON directly, so ignoring compression is safe and keeps traffic readable in logs.

Each IDENTIFY creates a :class:`GatewaySession` with its own sequence counter and a buffer of
every dispatch sent in it. A RESUME re-attaches a new websocket to the session, replays the
dispatches after the client's ``seq`` and then sends RESUMED, exactly like Discord. Events that
happen while the socket is down are buffered and replayed on resume.

Intents are honoured for the events the fake emits (e.g. no MESSAGE_CREATE without
GUILD_MESSAGES; content/embeds/attachments/components blanked without MESSAGE_CONTENT unless
the bot is the author or is mentioned; GUILD_CREATE only lists other members with
GUILD_PRESENCES), so a bot relying on an intent it does not request fails in tests too
(see :mod:`.intents`).

Sharding follows :mod:`.sharding`: IDENTIFY's ``shard`` is validated (4010 if impossible), READY
and every later dispatch carry only the guilds of the session's shard, DMs go to shard 0, and a
session without ``shard`` receives everything.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from ._util import Notifier
from .intents import Intents, application_flags, filter_for
from .sharding import INVALID_SHARD_CLOSE_CODE, InvalidShard, Shard, event_guild_id, owns, parse_shard

if TYPE_CHECKING:
    from .world import Guild, World

# Opcodes
DISPATCH = 0
HEARTBEAT = 1
IDENTIFY = 2
PRESENCE_UPDATE = 3
VOICE_STATE_UPDATE = 4
RESUME = 6
RECONNECT = 7
REQUEST_GUILD_MEMBERS = 8
INVALID_SESSION = 9
HELLO = 10
HEARTBEAT_ACK = 11

#: Close codes with which a client ends its session for good (Discord invalidates it; no RESUME follows).
_SESSION_ENDING_CLOSE_CODES = frozenset({1000, 1001})


@dataclass
class SentEvent:
    """A dispatch the fake sent (or buffered) in a session."""

    session_id: str
    seq: int
    event: str
    data: dict[str, Any]
    #: The session's ``(shard_id, shard_count)``; ``None`` for an unsharded session.
    shard: Shard | None = None


@dataclass(eq=False)
class _Connection:
    """One websocket connection; sends are serialised by a lock."""

    ws: web.WebSocketResponse
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    #: Highest ``d`` (sequence) reported by the client's heartbeats.
    heartbeat_seq: int = -1
    heartbeats: int = 0
    #: Highest dispatch seq written to this socket.
    sent_seq: int = 0

    #: Whether the fake closed this socket (only a close by the client itself can end its session).
    closed_by_fake: bool = False

    async def close(self, code: int, message: bytes = b"") -> None:
        """Close the socket from the fake's side."""
        self.closed_by_fake = True
        await self.ws.close(code=code, message=message)

    async def send_json(self, payload: dict[str, Any]) -> bool:
        return await self.send_raw(json.dumps(payload))

    async def send_raw(self, text: str) -> bool:
        async with self.lock:
            if self.ws.closed:
                return False
            try:
                await self.ws.send_str(text)
            except (ConnectionError, RuntimeError):
                return False
            return True


@dataclass(eq=False)
class GatewaySession:
    """A gateway session created by IDENTIFY (survives reconnects via RESUME)."""

    id: str
    intents: int
    #: ``(shard_id, shard_count)`` from IDENTIFY; ``None`` when the client did not shard.
    shard: Shard | None
    #: Serialized dispatch frames; ``frames[i]`` carries sequence ``i + 1``.
    frames: list[str] = field(default_factory=list)
    new_frame: asyncio.Event = field(default_factory=asyncio.Event)
    connection: _Connection | None = None
    #: Seq of the last GUILD_CREATE of the initial burst after IDENTIFY.
    initial_seq: int = 0
    resumes: int = 0

    @property
    def seq(self) -> int:
        """The last sequence number used."""
        return len(self.frames)

    @property
    def live(self) -> bool:
        """Whether a websocket is attached and open."""
        return self.connection is not None and not self.connection.ws.closed


class Gateway:
    """Websocket endpoint plus session bookkeeping and fault injection."""

    def __init__(
        self,
        world: World,
        *,
        token: str,
        heartbeat_interval_ms: int,
        privileged_intents: int,
        resume_url: Callable[[], str],
    ) -> None:
        self.world = world
        self.token = token
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.privileged_intents = privileged_intents
        self._resume_url = resume_url
        self.sessions: dict[str, GatewaySession] = {}
        #: Every dispatch, in order, across sessions (for assertions).
        self.sent: list[SentEvent] = []
        #: Every non-heartbeat frame received from clients (op + d), for assertions.
        self.received: list[dict[str, Any]] = []
        self.identify_count = 0
        self.resume_count = 0
        self.close_count = 0
        self._expected_resumes = 1
        self._connections: set[_Connection] = set()
        self._writers: set[asyncio.Task[None]] = set()
        self.changed = Notifier()

    # ------------------------------------------------------------------ public API
    @property
    def connected(self) -> bool:
        """Whether some identified session has a live websocket."""
        return any(s.live for s in self.sessions.values())

    @property
    def shards(self) -> list[Shard | None]:
        """The shard of every identified session with a live websocket (``None``: unsharded), in IDENTIFY order."""
        return [s.shard for s in self.sessions.values() if s.live]

    def owners(self, guild_id: int | None) -> list[GatewaySession]:
        """Sessions whose shard owns ``guild_id`` (``None``: a DM, owned by shard 0), live or awaiting RESUME."""
        return [s for s in self.sessions.values() if owns(s.shard, guild_id)]

    def dispatch(self, event: str, data: dict[str, Any]) -> list[GatewaySession]:
        """Send a dispatch to every session owning its guild whose intents want it (buffered while disconnected).

        Returns the sessions it was sent to.
        """
        sent_to = []
        for session in self.owners(event_guild_id(event, data)):
            payload = self._filter_for(session, event, data)
            if payload is not None:
                self._enqueue(session, event, payload)
                sent_to.append(session)
        return sent_to

    async def close(self, code: int = 4000) -> None:
        """Close every live websocket with ``code`` (the client will reconnect and RESUME for most codes)."""
        self.close_count += 1
        self._expected_resumes = self.resume_count + 1
        for conn in list(self._connections):
            await conn.close(code, b"closed by fakediscord")

    async def send_reconnect(self) -> None:
        """Send op 7 RECONNECT; discord.py closes and RESUMEs."""
        self._expected_resumes = self.resume_count + 1
        for conn in list(self._connections):
            await conn.send_json({"op": RECONNECT, "d": None})

    async def invalidate_sessions(self, resumable: bool = False) -> None:
        """Send op 9 INVALID_SESSION; with ``resumable=False`` the client must IDENTIFY again."""
        if not resumable:
            self.sessions.clear()
        for conn in list(self._connections):
            await conn.send_json({"op": INVALID_SESSION, "d": resumable})

    async def wait_until_connected(self, timeout: float) -> GatewaySession:
        """Wait until a session has IDENTIFIED and its READY + GUILD_CREATEs were written."""

        def ready() -> GatewaySession | None:
            for s in self.sessions.values():
                if s.connection is not None and s.connection.sent_seq >= s.initial_seq > 0:
                    return s
            return None

        return await self.changed.wait_for(ready, timeout, "the bot to IDENTIFY and receive READY")

    async def wait_for_resume(self, timeout: float) -> None:
        """Wait until the client RESUMEd after the last :meth:`close` / :meth:`send_reconnect`."""
        target = self._expected_resumes
        await self.changed.wait_for(lambda: self.resume_count >= target, timeout, "the client to RESUME")

    async def sync(self, timeout: float) -> None:
        """Barrier: return once every connected client has *processed* all dispatches sent so far.

        Sends op 1 HEARTBEAT (a server-requested heartbeat); discord.py answers with its current
        sequence only after handling all earlier frames in order, because parsing is synchronous.
        """
        targets: list[tuple[_Connection, int]] = []
        for s in self.sessions.values():
            conn = s.connection
            if conn is None or conn.ws.closed:
                continue
            await self._wait_flushed(s, conn, timeout)
            targets.append((conn, conn.sent_seq))
            await conn.send_json({"op": HEARTBEAT, "d": None})
        for conn, seq in targets:
            await self.changed.wait_for(
                lambda c=conn, q=seq: c.heartbeat_seq >= q or c.ws.closed,  # type: ignore[misc]
                timeout,
                "the client to acknowledge pending gateway events",
            )

    async def _wait_flushed(self, session: GatewaySession, conn: _Connection, timeout: float) -> None:
        await self.changed.wait_for(
            lambda: conn.sent_seq >= session.seq or conn.ws.closed, timeout, "gateway frames to be written"
        )

    async def shutdown(self) -> None:
        """Close all sockets and stop writer tasks (used by ``FakeDiscord.stop``)."""
        for conn in list(self._connections):
            await conn.close(1001, b"fakediscord stopping")
        for task in list(self._writers):
            task.cancel()
        for task in list(self._writers):
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # ------------------------------------------------------------------ websocket handler
    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        """Aiohttp handler for ``GET /gateway`` (websocket upgrade)."""
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        conn = _Connection(ws)
        self._connections.add(conn)
        writer: asyncio.Task[None] | None = None
        session: GatewaySession | None = None
        try:
            await conn.send_json({"op": HELLO, "d": {"heartbeat_interval": self.heartbeat_interval_ms}})
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    continue
                frame = json.loads(msg.data)
                op = frame.get("op")
                data = frame.get("d")
                if op == HEARTBEAT:
                    conn.heartbeats += 1
                    conn.heartbeat_seq = data if isinstance(data, int) else conn.heartbeat_seq
                    await conn.send_json({"op": HEARTBEAT_ACK})
                    self.changed.notify()
                    continue
                self.received.append(frame)
                if op == IDENTIFY and session is None:
                    session = await self._identify(conn, data)
                    if session is not None:
                        writer = self._start_writer(session, conn, 0)
                elif op == RESUME and session is None:
                    session, cursor = await self._resume(conn, data)
                    if session is not None:
                        writer = self._start_writer(session, conn, cursor)
                elif op == REQUEST_GUILD_MEMBERS and session is not None:
                    self._members_chunk(session, data)
                # PRESENCE_UPDATE / VOICE_STATE_UPDATE are recorded in ``received`` and otherwise ignored.
        finally:
            if writer is not None:
                writer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await writer
            if session is not None and session.connection is conn:
                session.connection = None
                if not conn.closed_by_fake and ws.close_code in _SESSION_ENDING_CLOSE_CODES:
                    # Discord ends a session whose client closed normally: it can't be resumed, so it gets no events.
                    self.sessions.pop(session.id, None)
            self._connections.discard(conn)
            self.changed.notify()
        return ws

    # ------------------------------------------------------------------ internals
    async def _identify(self, conn: _Connection, data: dict[str, Any]) -> GatewaySession | None:
        if data.get("token") != self.token and data.get("token") != f"Bot {self.token}":
            await conn.close(4004, b"Authentication failed.")
            return None
        intents = int(data.get("intents", 0))
        if intents & Intents.PRIVILEGED & ~self.privileged_intents:
            await conn.close(4014, b"Disallowed intent(s).")
            return None
        try:
            shard = parse_shard(data.get("shard"))
        except InvalidShard:
            await conn.close(INVALID_SHARD_CLOSE_CODE, b"Invalid shard.")
            return None
        session = GatewaySession(id=secrets.token_hex(16), intents=intents, shard=shard)
        session.connection = conn
        self.sessions[session.id] = session
        self.identify_count += 1
        ready: dict[str, Any] = {
            "v": 10,
            "user": {**self.world.bot_user.to_payload(), "verified": True, "mfa_enabled": False, "email": None},
            "guilds": [{"id": str(g.id), "unavailable": True} for g in self._guilds_of(session)],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": self._resume_url(),
            "application": {"id": str(self.world.application_id), "flags": application_flags(self.privileged_intents)},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": ["fake"],
            "user_settings": {},
            "auth": {},
            "_trace": ['["fakediscord-gateway",{"micros":0}]'],
        }
        if session.shard is not None:
            ready["shard"] = list(session.shard)
        self._enqueue(session, "READY", ready)
        for guild in self._guilds_of(session):
            if not guild.available:
                continue
            payload = self._filter_for(session, "GUILD_CREATE", guild.to_payload())
            if payload is not None:
                self._enqueue(session, "GUILD_CREATE", payload)
        session.initial_seq = session.seq
        return session

    async def _resume(self, conn: _Connection, data: dict[str, Any]) -> tuple[GatewaySession | None, int]:
        session = self.sessions.get(str(data.get("session_id")))
        if session is None or data.get("token") not in (self.token, f"Bot {self.token}"):
            await conn.send_json({"op": INVALID_SESSION, "d": False})
            return None, 0
        if session.connection is not None and not session.connection.ws.closed:
            # A session can only be attached to one socket; Discord drops the old one.
            await session.connection.close(4000)
        session.connection = conn
        session.resumes += 1
        cursor = int(data.get("seq") or 0)
        self._enqueue(session, "RESUMED", {"_trace": ['["fakediscord-gateway",{"micros":0}]']})
        self.resume_count += 1
        self.changed.notify()
        return session, cursor

    def _guilds_of(self, session: GatewaySession) -> list[Guild]:
        """Guilds the bot is in that belong to ``session``'s shard."""
        return [g for g in self.world.guilds.values() if g.bot_present and owns(session.shard, g.id)]

    def _members_chunk(self, session: GatewaySession, data: dict[str, Any]) -> None:
        guild = self.world.guilds.get(int(data.get("guild_id", 0)))
        if guild is None:
            return
        wanted = {int(u) for u in data.get("user_ids") or []}
        query = (data.get("query") or "").lower()
        members = [
            m
            for m in guild.members.values()
            if (not wanted or m.id in wanted) and m.user.username.lower().startswith(query)
        ]
        limit = int(data.get("limit") or 0)
        if limit:
            members = members[:limit]
        chunk: dict[str, Any] = {
            "guild_id": str(guild.id),
            "members": [m.to_payload() for m in members],
            "chunk_index": 0,
            "chunk_count": 1,
        }
        if wanted:
            chunk["not_found"] = [str(u) for u in wanted - {m.id for m in members}]
        if data.get("nonce"):
            chunk["nonce"] = data["nonce"]
        self._enqueue(session, "GUILD_MEMBERS_CHUNK", chunk)

    def _enqueue(self, session: GatewaySession, event: str, data: dict[str, Any]) -> None:
        seq = session.seq + 1
        session.frames.append(json.dumps({"op": DISPATCH, "t": event, "s": seq, "d": data}))
        self.sent.append(SentEvent(session.id, seq, event, data, session.shard))
        session.new_frame.set()

    def _start_writer(self, session: GatewaySession, conn: _Connection, cursor: int) -> asyncio.Task[None]:
        task = asyncio.create_task(self._writer(session, conn, cursor), name=f"fakediscord-gateway-{session.id[:6]}")
        self._writers.add(task)
        task.add_done_callback(self._writers.discard)
        return task

    async def _writer(self, session: GatewaySession, conn: _Connection, cursor: int) -> None:
        """Stream ``session.frames[cursor:]`` to ``conn`` in order, then wait for more."""
        while True:
            while cursor < len(session.frames):
                if not await conn.send_raw(session.frames[cursor]):
                    return
                cursor += 1
                conn.sent_seq = cursor
                self.changed.notify()
            session.new_frame.clear()
            if cursor < len(session.frames):
                continue
            await session.new_frame.wait()

    def _filter_for(self, session: GatewaySession, event: str, data: dict[str, Any]) -> dict[str, Any] | None:
        return filter_for(session.intents, str(self.world.bot_user.id), event, data)
