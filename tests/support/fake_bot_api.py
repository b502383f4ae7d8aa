"""A fake Telegram Bot API server on 127.0.0.1 for end-to-end tests and load benchmarks.

Real python-telegram-bot talks to it through `base_url` / `base_file_url`. It answers getMe,
getUpdates (long polling, honouring `offset`), getFile, file downloads, sendMessage, sendPhoto,
sendChatAction, setMessageReaction, answerCallbackQuery, editMessageText,
editMessageReplyMarkup, setMyCommands, setWebhook and deleteWebhook. An edit that changes
nothing gets Telegram's 400 "message is not modified", as a second tap on the same button does
in real life; a text or caption sent with parse_mode HTML that Telegram could not parse (a tag
it does not know, one left open, a bare "<" or "&") gets its 400 "can't parse entities".

Use:
    with FakeBotApi(TOKEN) as api:
        user = FakeUser(42, language_code="hi")
        msg_id = api.send_photo(user, jpeg_bytes)
        reply = api.wait_reply(msg_id)         # the sendMessage that answers that photo
        api.calls("sendChatAction")            # everything the bot sent, by method

Faults, for fault-injection tests: `api.inject("sendMessage", Fault.server_error())` makes the
next sendMessage answer 502 instead (one fault per request, in order; "file" names downloads):
`Fault.too_many(retry_after)`, `Fault.server_error(status)`, `Fault.slow(s)` (answers late),
`Fault.hang(s)` (never answers: the client times out; the request is not carried out) and
`Fault.reset()` (TCP reset, no answer). `api.faults_served` lists what was played. After
`stop()` no request is answered, on kept-alive connections either (Telegram out of reach).

Stdlib only (http.server in a thread), so a bench script can import it too.
"""

from __future__ import annotations

import contextlib
import email.policy
import itertools
import json
import re
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.parser import BytesParser
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

JSON = dict[str, Any]


class ApiError(Exception):
    """Answered as `{"ok": false, "error_code": code, "description": ...}`."""

    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


@dataclass(frozen=True)
class FakeUser:
    id: int
    first_name: str = "Test"
    language_code: str | None = "en"

    def as_json(self) -> JSON:
        out: JSON = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.language_code:
            out["language_code"] = self.language_code
        return out

    def chat(self) -> JSON:
        return {"id": self.id, "type": "private", "first_name": self.first_name}


@dataclass
class Call:
    """One request the bot made: method name, decoded parameters, arrival time (monotonic)."""

    method: str
    params: JSON
    at: float
    result: Any = None
    error: str | None = None  # the description of an {"ok": false} answer

    @property
    def chat_id(self) -> int | None:
        chat = self.params.get("chat_id")
        return int(chat) if chat is not None else None

    @property
    def text(self) -> str:
        """The message's text, or a photo's caption."""
        return str(self.params.get("text", self.params.get("caption", "")))

    @property
    def reply_to(self) -> int | None:
        reply = self.params.get("reply_parameters") or {}
        return reply.get("message_id")

    def buttons(self) -> list[tuple[str, str]]:
        """(label, callback_data) of every inline button, row by row."""
        markup = self.params.get("reply_markup") or {}
        rows = markup.get("inline_keyboard", [])
        return [(b["text"], b.get("callback_data", "")) for row in rows for b in row]


@dataclass(frozen=True)
class Fault:
    """How the fake server misbehaves for one request."""

    kind: str  # "429", "5xx", "slow", "hang", "reset"
    seconds: float = 0.0  # retry_after for 429; the delay for slow and hang
    status: int = 502

    @classmethod
    def too_many(cls, retry_after: int = 1) -> Fault:
        return cls("429", float(retry_after), 429)

    @classmethod
    def server_error(cls, status: int = 502) -> Fault:
        return cls("5xx", status=status)

    @classmethod
    def slow(cls, seconds: float) -> Fault:
        return cls("slow", seconds)

    @classmethod
    def hang(cls, seconds: float) -> Fault:
        return cls("hang", seconds)

    @classmethod
    def reset(cls) -> Fault:
        return cls("reset")


@dataclass
class _State:
    updates: list[JSON] = field(default_factory=list)
    files: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    queued_at: dict[int, float] = field(default_factory=dict)  # message id -> enqueue time
    replies: dict[int, Call] = field(default_factory=dict)  # user message id -> first reply
    faults: dict[str, list[Fault]] = field(default_factory=dict)  # method -> faults to play
    faults_served: list[tuple[str, Fault]] = field(default_factory=list)
    # (chat id, message id) -> (text, reply markup) of every message the bot sent or edited
    shown: dict[tuple[int, int], tuple[str, Any]] = field(default_factory=dict)


class FakeBotApi:
    BOT_ID_FALLBACK = 1

    def __init__(self, token: str, host: str = "127.0.0.1", port: int = 0) -> None:
        self.token = token
        self._host = host
        self._state = _State()
        self._cond = threading.Condition()
        self._ids = itertools.count(1)
        self._update_ids = itertools.count(1)
        self.stopped = False
        self._server = ThreadingHTTPServer((host, port), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        bot_id = token.split(":", 1)[0]
        self.bot_user = {
            "id": int(bot_id) if bot_id.isdigit() else self.BOT_ID_FALLBACK,
            "is_bot": True,
            "first_name": "Palsy Test",
            "username": "palsy_test_bot",
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> FakeBotApi:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopped = True
        self._server.shutdown()
        self._server.server_close()
        with self._cond:
            self._cond.notify_all()

    def __enter__(self) -> FakeBotApi:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def root(self) -> str:
        port = self._server.server_address[1]
        return f"http://{self._host}:{port}"

    @property
    def base_url(self) -> str:
        return f"{self.root}/bot"

    @property
    def file_base_url(self) -> str:
        return f"{self.root}/file/bot"

    # -- what users do -----------------------------------------------------------------------
    def add_file(self, data: bytes, suffix: str = "jpg") -> str:
        file_id = f"file{next(self._ids)}"
        with self._cond:
            self._state.files[file_id] = (data, suffix)
        return file_id

    def send_message(self, user: FakeUser, **content: Any) -> int:
        """Queue a message update from `user` with `content` (text, photo, document, ...)."""
        update = self.make_update(user, **content)
        message_id = update["message"]["message_id"]
        self._queue(update, message_id)
        return message_id

    def send_text(self, user: FakeUser, text: str) -> int:
        content: JSON = {"text": text}
        if text.startswith("/"):
            command = text.split()[0]
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        return self.send_message(user, **content)

    def send_photo(
        self,
        user: FakeUser,
        data: bytes,
        *,
        width: int = 1024,
        height: int = 1024,
        thumbnail: bytes | None = None,
        media_group_id: str | None = None,
        file_size: int | None = None,
        caption: str | None = None,
    ) -> int:
        """A photo with a small thumbnail size first and the full size last, as Telegram sends."""
        small = self.add_file(thumbnail if thumbnail is not None else b"not the largest size")
        big = self.add_file(data)
        sizes = [
            {"file_id": small, "file_unique_id": "u" + small, "width": 90, "height": 90},
            {
                "file_id": big,
                "file_unique_id": "u" + big,
                "width": width,
                "height": height,
                "file_size": len(data) if file_size is None else file_size,
            },
        ]
        extra: JSON = {"media_group_id": media_group_id} if media_group_id else {}
        if caption is not None:
            extra["caption"] = caption
        return self.send_message(user, photo=sizes, **extra)

    def send_document(
        self,
        user: FakeUser,
        data: bytes,
        *,
        file_name: str = "photo.jpg",
        mime_type: str | None = "image/jpeg",
        file_size: int | None = None,
    ) -> int:
        file_id = self.add_file(data, file_name.rsplit(".", 1)[-1])
        document: JSON = {
            "file_id": file_id,
            "file_unique_id": "u" + file_id,
            "file_name": file_name,
            "file_size": len(data) if file_size is None else file_size,
        }
        if mime_type:
            document["mime_type"] = mime_type
        return self.send_message(user, document=document)

    def press_button(self, user: FakeUser, message: Call, data: str) -> None:
        """The user taps the inline button with `data` under the bot's message `message`."""
        query = {
            "id": str(next(self._ids)),
            "from": user.as_json(),
            "message": message.result,
            "chat_instance": str(user.id),
            "data": data,
        }
        self._queue({"callback_query": query}, None)

    def make_update(self, user: FakeUser, **content: Any) -> JSON:
        """A message update that is not queued (to post to a bot's webhook yourself)."""
        message_id = next(self._ids)
        message = {"message_id": message_id, "date": int(time.time()), "chat": user.chat(),
                   "from": user.as_json(), **content}  # fmt: skip
        return {"update_id": next(self._update_ids), "message": message}

    def take_updates(self, timeout: float) -> list[JSON]:
        """Webhook mode: the updates queued so far (waiting up to `timeout` for one), taken
        off the queue for a dispatcher to post (tests.support.replicas)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not self._state.updates and not self.stopped:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            taken, self._state.updates = self._state.updates, []
            return taken

    def _queue(self, update: JSON, message_id: int | None) -> None:
        with self._cond:
            update["update_id"] = next(self._update_ids)  # in queue order
            self._state.updates.append(update)
            if message_id is not None:
                self._state.queued_at[message_id] = time.monotonic()
            self._cond.notify_all()

    # -- faults ------------------------------------------------------------------------------
    def inject(self, method: str, *faults: Fault) -> None:
        """Play `faults` on the next requests for `method` ("file": downloads), one each."""
        with self._cond:
            self._state.faults.setdefault(method, []).extend(faults)

    @property
    def faults_served(self) -> list[tuple[str, Fault]]:
        with self._cond:
            return list(self._state.faults_served)

    def faults_left(self) -> int:
        with self._cond:
            return sum(len(f) for f in self._state.faults.values())

    def _take_fault(self, method: str) -> Fault | None:
        with self._cond:
            queued = self._state.faults.get(method)
            if not queued:
                return None
            fault = queued.pop(0)
            self._state.faults_served.append((method, fault))
            self._cond.notify_all()
            return fault

    # -- what the bot did --------------------------------------------------------------------
    def calls(self, method: str | None = None, chat_id: int | None = None) -> list[Call]:
        with self._cond:
            return [
                c
                for c in self._state.calls
                if (method is None or c.method == method)
                and (chat_id is None or c.chat_id == chat_id)
            ]

    def wait_for(
        self, predicate: Callable[[list[Call]], Any], timeout: float = 10.0, what: str = ""
    ) -> Any:
        """Block until `predicate(all calls)` is truthy and return its value."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                value = predicate(self._state.calls)
                if value:
                    return value
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [(c.method, c.text[:60]) for c in self._state.calls[-10:]]
                    raise TimeoutError(f"timed out waiting for {what or predicate}; last: {seen}")
                self._cond.wait(left)

    def wait_reply(self, message_id: int, timeout: float = 10.0) -> Call:
        """The sendMessage that replies to the user's message `message_id`."""
        return self.wait_for(
            lambda _: self._state.replies.get(message_id), timeout, f"a reply to {message_id}"
        )

    def command(self, user: FakeUser, text: str, timeout: float = 10.0) -> Call:
        """Send `text` (e.g. "/start") and return the next message the bot sends that user."""
        before = len(self.calls("sendMessage", user.id))
        self.send_text(user, text)

        def next_message(calls: list[Call]) -> Call | None:
            sent = [c for c in calls if c.method == "sendMessage" and c.chat_id == user.id]
            return sent[before] if len(sent) > before else None

        return self.wait_for(next_message, timeout, f"an answer to {text!r}")

    def wait_messages(self, chat_id: int, count: int, timeout: float = 10.0) -> list[Call]:
        """The first `count` messages sent to `chat_id` (sendMessage and editMessageText)."""

        def enough(calls: list[Call]) -> list[Call] | None:
            got = [
                c
                for c in calls
                if c.method in ("sendMessage", "editMessageText") and c.chat_id == chat_id
            ]
            return got[:count] if len(got) >= count else None

        return self.wait_for(enough, timeout, f"{count} messages to chat {chat_id}")

    def queued_at(self, message_id: int) -> float | None:
        """When user message `message_id` was queued (monotonic), answered or not."""
        with self._cond:
            return self._state.queued_at.get(message_id)

    def latency(self, message_id: int) -> float | None:
        """Seconds from queuing user message `message_id` to the bot's reply arriving."""
        with self._cond:
            start = self._state.queued_at.get(message_id)
            reply = self._state.replies.get(message_id)
        return None if start is None or reply is None else reply.at - start

    # -- the HTTP side -----------------------------------------------------------------------
    def _api(self, method: str, params: JSON) -> JSON:
        call = Call(method, params, time.monotonic())
        handler = getattr(self, f"_m_{method}", None)
        try:
            if handler is None:
                raise ApiError(404, f"Not Found: method {method} not found")
            if method == "getUpdates":  # not recorded: it is the bot asking, not acting
                return {"ok": True, "result": handler(params)}
            with self._cond:
                self._state.calls.append(call)
                try:
                    call.result = handler(params)
                    if method == "sendMessage" and call.reply_to is not None:
                        self._state.replies.setdefault(call.reply_to, call)
                finally:  # a refused call is recorded too: its waiters must wake (else they
                    self._cond.notify_all()  # sleep out their timeout, 10 s by default)
        except ApiError as exc:
            call.error = exc.description
            return {"ok": False, "error_code": exc.code, "description": exc.description}
        return {"ok": True, "result": call.result}

    def _m_getMe(self, params: JSON) -> JSON:
        return self.bot_user

    def _m_deleteWebhook(self, params: JSON) -> bool:
        return True

    def _m_setMyCommands(self, params: JSON) -> bool:
        return True

    def _m_setWebhook(self, params: JSON) -> bool:
        return True

    def _m_getUpdates(self, params: JSON) -> list[JSON]:
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        deadline = time.monotonic() + float(params.get("timeout") or 0)
        with self._cond:
            # Telegram forgets updates below the offset: they were confirmed.
            self._state.updates = [u for u in self._state.updates if u["update_id"] >= offset]
            while not self._state.updates and time.monotonic() < deadline and not self.stopped:
                self._cond.wait(deadline - time.monotonic())
            return self._state.updates[:limit]

    def _m_getFile(self, params: JSON) -> JSON:
        file_id = str(params["file_id"])
        if file_id not in self._state.files:
            raise ApiError(400, "Bad Request: invalid file_id")
        data, suffix = self._state.files[file_id]
        # A relative path that does not exist locally, so PTB downloads it over HTTP.
        return {
            "file_id": file_id,
            "file_unique_id": "u" + file_id,
            "file_size": len(data),
            "file_path": f"fake-api-files/{file_id}.{suffix}",
        }

    def _bot_message(self, params: JSON) -> JSON:
        chat_id = int(params["chat_id"])
        message: JSON = {
            "message_id": int(params.get("message_id") or next(self._ids)),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": "Test"},
            "from": self.bot_user,
            "text": params.get("text", ""),
        }
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        return message

    def _m_sendMessage(self, params: JSON) -> JSON:
        message = self._bot_message(params)
        self._show(message, params.get("text", ""), params.get("reply_markup"), html=_html(params))
        return message

    def _m_editMessageText(self, params: JSON) -> JSON:
        message = self._bot_message(params)
        self._show(message, params.get("text", ""), params.get("reply_markup"), edit=True,
                   html=_html(params))  # fmt: skip
        return message

    def _m_editMessageReplyMarkup(self, params: JSON) -> JSON:
        key = (int(params["chat_id"]), int(params["message_id"]))
        text = self._state.shown.get(key, ("", None))[0]
        message = self._bot_message({**params, "text": text})
        self._show(message, text, params.get("reply_markup"), edit=True)
        return message

    def _show(
        self, message: JSON, text: str, markup: Any, edit: bool = False, html: bool = False
    ) -> None:
        """Remember what a message shows; an edit to the same content is refused, as Telegram
        does, and so is HTML it could not parse. Called under the lock."""
        if html and (problem := html_problem(text)):
            raise ApiError(400, f"Bad Request: can't parse entities: {problem}")
        key = (message["chat"]["id"], message["message_id"])
        new = (text, markup or None)
        if edit and self._state.shown.get(key) == new:
            raise ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of the message",
            )
        self._state.shown[key] = new

    def _m_sendPhoto(self, params: JSON) -> JSON:
        """A photo by upload (multipart: {"uploaded": file id}) or by an earlier file id."""
        photo = params.get("photo")
        file_id = photo.get("uploaded") if isinstance(photo, dict) else str(photo)
        if file_id not in self._state.files:
            raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        message = self._bot_message(params)
        message.pop("text")
        message["caption"] = params.get("caption", "")
        message["photo"] = [{"file_id": file_id, "file_unique_id": "u" + file_id,
                             "width": 240, "height": 240}]  # fmt: skip
        self._show(message, message["caption"], params.get("reply_markup"), html=_html(params))
        return message

    def uploaded(self, file_id: str) -> bytes:
        """What the bot uploaded (sendPhoto), by the file id it got back."""
        with self._cond:
            return self._state.files[file_id][0]

    def _m_sendChatAction(self, params: JSON) -> bool:
        return True

    def _m_setMessageReaction(self, params: JSON) -> bool:
        return True

    def _m_answerCallbackQuery(self, params: JSON) -> bool:
        return True

    def _file(self, file_path: str) -> bytes | None:
        file_id = file_path.rsplit("/", 1)[-1].split(".", 1)[0]
        with self._cond:
            entry = self._state.files.get(file_id)
        return None if entry is None else entry[0]


# Telegram's HTML: these tags (attributes allowed), these named entities, and numeric ones.
_TAGS = "b|strong|i|em|u|ins|s|strike|del|code|pre|a|span|tg-spoiler|tg-emoji|blockquote"
_TAG = re.compile(rf"<(/?)({_TAGS})(?:\s[^<>]*)?>")
_ENTITY = re.compile(r"&(?:lt|gt|amp|quot|#[0-9]+|#x[0-9a-fA-F]+);")


def _html(params: JSON) -> bool:
    return str(params.get("parse_mode", "")).upper() == "HTML"


def html_problem(text: str) -> str | None:
    """What Telegram would refuse in `text` as HTML (None: nothing): every "<" and "&" must
    start a known tag or an entity, and tags must close in order."""
    open_tags: list[str] = []
    at = 0
    for match in _TAG.finditer(text):
        if problem := _bare(text[at : match.start()], at):
            return problem
        closing, name = match.group(1), match.group(2)
        if not closing:
            open_tags.append(name)
        elif not open_tags or open_tags.pop() != name:
            return f"unexpected end tag at byte offset {match.start()}"
        at = match.end()
    if problem := _bare(text[at:], at):
        return problem
    return f"unclosed start tag {open_tags[-1]}" if open_tags else None


def _bare(part: str, offset: int) -> str | None:
    if "<" in part:
        return f"unsupported start tag at byte offset {offset + part.index('<')}"
    rest = _ENTITY.sub("", part)
    return f"unsupported entity near offset {offset}" if "&" in rest else None


def _decode(value: str) -> Any:
    # PTB sends form fields; objects and arrays are JSON, everything else a plain string.
    if value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _multipart(api: FakeBotApi, raw: bytes, content_type: str) -> JSON:
    """Form fields of an upload; each file is kept as a file the bot can send again by id."""
    head = f"Content-Type: {content_type}\r\n\r\n".encode()
    form = BytesParser(policy=email.policy.HTTP).parsebytes(head + raw)
    params: JSON = {}
    for part in form.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        body = payload if isinstance(payload, bytes) else b""
        if part.get_filename():
            params[str(name)] = {"uploaded": api.add_file(body, "png")}
        else:
            params[str(name)] = _decode(body.decode())
    return params


def _handler_for(api: FakeBotApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def setup(self) -> None:
            super().setup()
            # Without this, Nagle's algorithm and delayed ACKs add ~40 ms to some responses.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def handle(self) -> None:
            # The bot closes long polls when it stops: not an error worth a traceback.
            with contextlib.suppress(ConnectionError):
                super().handle()

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            if api.stopped:  # gone: a kept-alive connection must not outlive the server
                self.close_connection = True
                return
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _json(self, body: JSON) -> None:
            status = HTTPStatus.OK if body["ok"] else body["error_code"]
            self._send(status, json.dumps(body).encode(), "application/json")

        def _fault(self, method: str) -> bool:
            """Play the next fault for `method`; True when the request must not be answered."""
            fault = api._take_fault(method)
            if fault is None:
                return False
            if fault.kind in ("slow", "hang"):
                time.sleep(fault.seconds)
                if fault.kind == "slow":
                    return False
            if fault.kind in ("hang", "reset"):
                self.close_connection = True
                # Linger 0: close() sends RST, as a dropped connection or a crashed proxy does.
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
                self.connection.close()
                return True
            body: JSON = {"ok": False, "error_code": fault.status}
            if fault.kind == "429":
                retry = int(fault.seconds)
                body["description"] = f"Too Many Requests: retry after {retry}"
                body["parameters"] = {"retry_after": retry}
            else:
                body["description"] = HTTPStatus(fault.status).phrase
            self._json(body)
            return True

        def _route(self) -> tuple[str, str] | None:
            # PTB percent-encodes the path of file URLs, so the token's ':' arrives as %3A.
            path = unquote(urlsplit(self.path).path)
            for kind, prefix in (("file", "/file/bot"), ("api", "/bot")):
                if path.startswith(prefix + api.token + "/"):
                    return kind, path[len(prefix + api.token) + 1 :]
            return None

        def do_GET(self) -> None:
            route = self._route()
            if route is None:
                self._json({"ok": False, "error_code": 401, "description": "Unauthorized"})
                return
            kind, rest = route
            if self._fault("file" if kind == "file" else rest):
                return
            if kind == "file":
                data = api._file(rest)
                if data is None:
                    self._send(HTTPStatus.NOT_FOUND, b"not found", "text/plain")
                else:
                    self._send(HTTPStatus.OK, data, "application/octet-stream")
                return
            self._json(api._api(rest, {}))

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            route = self._route()
            if route is None or route[0] != "api":
                self._json({"ok": False, "error_code": 401, "description": "Unauthorized"})
                return
            if self._fault(route[1]):
                return
            content_type = self.headers.get("Content-Type", "")
            if "json" in content_type:
                params = json.loads(raw or b"{}")
            elif content_type.startswith("multipart/form-data"):
                params = _multipart(api, raw, content_type)
            else:
                params = {k: _decode(v) for k, v in parse_qsl(raw.decode(), keep_blank_values=True)}
            self._json(api._api(route[1], params))

    return Handler
