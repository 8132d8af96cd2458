"""The chat app: ask, see the evidence, follow up, add and remove documents (`qa chat`).

`build_app(assistant)` makes the Gradio Blocks (tests launch it themselves); `launch()` warms the
assistant up (building the index from the seeds when there is none) and serves it.

Each browser session keeps its own turns in `gr.State`, so concurrent users never share a history.
Questions run in the "ask" concurrency group, index changes in the "index" group (one at a time):
an upload being embedded never holds up questions, which keep being answered from the current index
until the new version is swapped in.

Collections: who asks is the logged-in user (a QA_AUTH login or a user of the store), else the
operator when no login is configured (`ui/callers.py`). The picker offers the collections the assistant
says that caller may read (shown once there is more than one); questions, the document list, uploads
and removals act on the chosen one, and each answer says which collection answered. Follow-ups use the
conversation's answers from that same collection.

API (gradio_client), documented in the README:
- `/chat(message, history=[])` -> `(reply, details)`: the answer text (a "not sure" reply worded as a
  hedge, or "The document doesn't say.") and `Answer.to_dict()` (with `band` and `collection`) plus
  `rewritten_question`; `/chat_collection(message, history=[], collection=None)` the same from a
  collection (None: the default one).
- `/collections()` -> the collections you may ask in (name, owner, access, writable, documents).
- `/choose_collection(name)` -> the session's documents: later uploads and removals act on it.
- `/add_documents(files)` -> `(status, documents)`; `/remove_document(name)` -> `(status, documents, name)`.
"""

from __future__ import annotations

import atexit
import contextlib
import inspect
import logging
import os
import signal
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import gradio as gr
from gradio.utils import get_upload_folder
from starlette.middleware import Middleware

from qa import Answer, Assistant, BadInputError, Caller, QAError
from qa.uploads import DOCUMENT_TYPES, MAX_FILE_BYTES
from ui.access import HostCheck, LoginRequired, LoginThrottle, served_hosts, trusted_proxies
from ui.callers import Credentials, bearer
from ui.follow import FOLLOW_JS
from ui.history import Turn, clean_history, plain_history
from ui.http_errors import public_error
from ui.limits import BodyLimit, bound_queue, gradio_app_kwargs
from ui.render import collection_choices, document_rows, markdown_text, turn_messages
from ui.upload_guard import UploadGuard, clean_uploads, cleaning_lifespan, uploads_of
from ui.uploads import UploadProgress, add_documents, forget_uploads, remove_document

logger = logging.getLogger(__name__)

EXAMPLES = [
    "Who was sanctioned by China?",
    "Who is Meng Wanzhou?",
    "Why has Russia been under Western sanctions?",
]
ASK_CONCURRENCY = 4  # questions answered at once (the Assistant is thread-safe)
FAILED = "Something went wrong while answering; the server log has the details."
MAX_UPLOAD_BYTES = 10 * MAX_FILE_BYTES

THEME = gr.themes.Soft(
    font=["ui-sans-serif", "system-ui", "sans-serif"],  # local fonts: the chat works offline
    font_mono=["ui-monospace", "monospace"],
)
CSS = """
mark.qa-answer { background: #fde047; color: #111827; padding: 0 2px; border-radius: 3px; font-weight: 600; }
blockquote.qa-passage { margin: 4px 0 8px; padding-left: 10px; border-left: 3px solid #a5b4fc; }
p.qa-searched, p.qa-doc { margin: 2px 0; font-size: 0.9em; }
p.qa-collection { margin: 4px 0 0; font-size: 0.8em; color: #6b7280; }
div.qa-unsure { border-left: 4px solid #f59e0b; padding-left: 10px; }
div.qa-unsure p.qa-hedge { margin: 0 0 4px; color: #b45309; font-weight: 600; }
blockquote.qa-closest { margin: 4px 0; font-style: italic; }
mark.qa-candidate { background: #fed7aa; font-weight: 600; }
div.qa-unsure p.qa-or { margin: 6px 0 0; color: #b45309; font-size: 0.9em; }
"""


def _chat_messages(turns: list[Turn], *, labelled: bool = False) -> list[dict]:
    last = len(turns) - 1
    return [
        m
        for i, (question, reply) in enumerate(turns)
        for m in turn_messages(question, reply, latest=i == last, labelled=labelled)
    ]


def _reply(
    assistant: Assistant, question: str, history: list[dict], collection: str | None, caller: Caller
) -> Answer | str:
    """The Answer, or a message saying why there is none (never a traceback in the chat)."""
    try:
        return assistant.ask(question, history=history, collection=collection, caller=caller)
    except QAError as exc:
        return f"error: {public_error(exc)[1]}"  # the database's address and such go to the log
    except Exception:
        logger.exception("answering %r failed", question)
        return FAILED


class ChatCallers:
    """Who asks in this chat (`ui.callers`): the logged-in user; else the caller of the request's API
    key (the chat mounted behind QA_API_KEYS); else the operator, when the chat is served to the
    operator alone (`guarded` False: no login and no key configured, or `--no-login`)."""

    def __init__(self, credentials: Credentials | None, *, guarded: bool) -> None:
        self.credentials, self.guarded = credentials, guarded

    def __call__(self, request: gr.Request | None) -> Caller:
        name = getattr(request, "username", None) if request is not None else None
        if isinstance(name, str) and name:
            try:
                return Caller.user(name)
            except BadInputError:  # a QA_AUTH login named outside the store's rules: still that person
                return Caller(name, "user")
        if self.credentials is not None and request is not None:
            caller = self.credentials.caller_of_key(bearer(request.headers))
            if caller is not None:
                return caller
        if self.guarded:
            raise BadInputError("log in to the chat first")
        return Caller.LOCAL


def build_app(
    assistant: Assistant, *, credentials: Credentials | None = None, guarded: bool = False
) -> gr.Blocks:
    """The chat over `assistant`, not launched. `guarded`: its callers are the logins (or API keys)
    that `credentials` checks, never the operator; else everyone who reaches it is the operator."""
    caller_of = ChatCallers(credentials, guarded=guarded)

    def same_collection(turns: list[Turn], collection: str | None) -> list[dict]:
        """The conversation for a follow-up: the turns answered from `collection` only."""
        name = collection or assistant.collection
        return plain_history([t for t in turns if getattr(t[1], "collection", name) == name])

    def respond(
        message: str, turns: list[Turn], collection: str | None, labelled: bool, request: gr.Request
    ) -> Iterator[tuple[Any, list[dict], list[Turn]]]:
        try:
            question = assistant.check_question(message)
        except BadInputError as exc:
            # one line in a toast; a gr.Error would cover the chat and the box with red badges
            gr.Warning(str(exc), title="Not asked", duration=6)
            yield gr.skip(), gr.skip(), turns  # the conversation stays as it was
            return
        pending = [
            *_chat_messages(turns, labelled=labelled),
            {"role": "user", "content": markdown_text(question)},
        ]
        yield "", pending, turns
        try:
            caller = caller_of(request)
        except QAError as exc:
            reply: Answer | str = f"error: {public_error(exc)[1]}"
        else:
            reply = _reply(assistant, question, same_collection(turns, collection), collection, caller)
        turns = [*turns, (question, reply)]
        yield "", _chat_messages(turns, labelled=labelled), turns

    def chat(
        message: str,
        history: list[dict] | None = None,
        request: gr.Request = None,  # type: ignore[assignment]  # Gradio passes it
    ) -> tuple[str, dict]:
        """Answer `message` about the indexed documents (the default collection; `/chat_collection`
        names another). `history`: the conversation so far, oldest first, as {"role":
        "user"|"assistant", "content": str} messages (for follow-up questions). Returns the reply
        text (a "not sure" reply worded as a hedge) and the details (answer, band: sure | unsure |
        none, no_answer, score, sources with answer offsets, reader, collection,
        rewritten_question)."""
        return chat_collection(message, history, None, request)

    def chat_collection(
        message: str,
        history: list[dict] | None = None,
        collection: str | None = None,
        request: gr.Request = None,  # type: ignore[assignment]  # Gradio passes it
    ) -> tuple[str, dict]:
        """Answer `message` from the documents of `collection` (None: the default collection), as
        `/chat` does; `/collections` lists those you may ask in."""
        try:
            question = assistant.check_question(message)
            answer = assistant.ask(
                question, history=clean_history(history), collection=collection or None,
                caller=caller_of(request),
            )  # fmt: skip
        except QAError as exc:
            raise gr.Error(public_error(exc)[1], print_exception=False) from exc
        return answer.display_text, {**answer.to_dict(), "rewritten_question": answer.rewritten_question}

    def collections(request: gr.Request = None) -> list[dict]:  # type: ignore[assignment]
        """The collections you may ask in: each one's name, owner (null: the operator's), access
        (private | read | write: shared read-only or read-write), whether you may add and remove its
        documents (writable), and how many documents it holds."""
        try:
            found = assistant.collections(caller=caller_of(request))
        except QAError as exc:
            raise gr.Error(public_error(exc)[1], print_exception=False) from exc
        return [
            {
                "name": c.name,
                "owner": c.owner,
                "access": c.access,
                "writable": c.writable,
                "documents": c.documents,
            }
            for c in found
        ]

    # gr.api reads the endpoint's inputs and outputs from the type hints: resolve the string ones.
    chat.__signature__ = inspect.signature(chat, eval_str=True)  # type: ignore[attr-defined]
    chat_collection.__signature__ = inspect.signature(chat_collection, eval_str=True)  # type: ignore[attr-defined]
    collections.__signature__ = inspect.signature(collections, eval_str=True)  # type: ignore[attr-defined]

    def rows_of(collection: str | None, request: gr.Request | None) -> list[list]:
        return document_rows(assistant.documents(collection=collection, caller=caller_of(request)))

    def documents(collection: str | None, request: gr.Request) -> tuple[list[list], Any]:
        try:
            rows = rows_of(collection, request)
        except QAError as exc:
            gr.Warning(public_error(exc)[1], title="Not listed", duration=6)
            rows = []
        return rows, gr.update(choices=[row[0] for row in rows], value=None)

    def open_session(request: gr.Request) -> tuple[Any, str | None, bool, list[list], Any]:
        """At each page load: the collections this caller may read (the default one chosen when it
        is one of them), and the chosen one's documents (another process may have changed them)."""
        try:
            found = assistant.collections(caller=caller_of(request))
        except QAError as exc:
            gr.Warning(public_error(exc)[1], title="No collections", duration=6)
            found = []
        names = [c.name for c in found]
        chosen = assistant.collection if assistant.collection in names else next(iter(names), None)
        picker = gr.update(choices=collection_choices(found), value=chosen, visible=len(names) > 1)
        rows, choices = documents(chosen, request) if chosen is not None else ([], gr.update(choices=[]))
        return picker, chosen, len(names) > 1, rows, choices

    def choose(name: str | None, request: gr.Request) -> tuple[str | None, list[list], Any]:
        """Pick the collection this session asks in, lists, uploads to and removes from."""
        chosen = name if isinstance(name, str) and name else None
        rows, choices = documents(chosen, request)
        return chosen, rows, choices

    def upload(
        paths: list[str] | None,
        collection: str | None,
        request: gr.Request,
        progress: gr.Progress = gr.Progress(),  # noqa: B008
    ) -> tuple[str, list[list]]:
        progress(0, desc="Checking the files")
        shown = UploadProgress(progress)  # files read (the current one, its pages), then passages
        folder = get_upload_folder()
        # only what Gradio received as uploads from this client: a client could name any file on
        # the server, or another client's pending upload
        mine = uploads_of(request, app.upload_file_set, owners)
        try:
            caller = caller_of(request)
            status = add_documents(
                assistant, paths, progress=shown, received=mine, folder=folder,
                collection=collection, caller=caller,
            )  # fmt: skip
            rows = rows_of(collection, request)
        except QAError as exc:
            status, rows = f"Nothing was added: {markdown_text(public_error(exc)[1])}", []
        finally:  # indexed or refused, the uploaded copy is not needed any more
            forget_uploads([p for p in paths or [] if p in mine], app.upload_file_set, folder)
        return status, rows

    def after_upload(collection: str | None, request: gr.Request) -> tuple[None, Any]:
        return None, documents(collection, request)[1]  # empties the upload box, refreshes the choices

    def remove(name: str | None, collection: str | None, request: gr.Request) -> tuple[str, list[list], Any]:
        try:
            status = remove_document(assistant, name, collection=collection, caller=caller_of(request))
        except QAError as exc:
            status = f"Not removed: {markdown_text(public_error(exc)[1])}"
        rows, choices = documents(collection, request)
        return status, rows, choices

    owners: dict[str, str] = {}  # each pending upload's owner (UploadGuard notes them)
    read_only = assistant.settings.read_only
    # in the page itself, no empty table while it loads; only where every visitor is the operator
    # (the page is the same for all: with logins, each one's list comes at its load)
    listed = [] if guarded else document_rows(assistant.documents())
    # delete_cache: uploads Gradio still holds go after an hour, and all of them when the server stops
    with gr.Blocks(title="Ask your documents", analytics_enabled=False, delete_cache=(3600, 3600)) as app:
        app.upload_owners = owners  # type: ignore[attr-defined]
        turns = gr.State([])
        collection = gr.State(None)  # the session's collection (None: the default one)
        labelled = gr.State(False)  # whether answers say their collection (the caller has several)
        gr.Markdown(
            "# Ask your documents\n"
            "Exact answers taken from your documents, each with the passage it comes from. "
            "Follow-up questions (“When was she detained?”) use the conversation. "
            f"Reader: `{assistant.reader}`, on `{assistant.engine}`."
        )
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=420):
                chatbot = gr.Chatbot(
                    label="Chat",
                    elem_id="chat",
                    height=560,
                    latex_delimiters=[],
                    placeholder="Ask a question about the documents, or click an example below.",
                    feedback_options=None,
                    buttons=["copy_all"],  # no "share": it needs the internet
                    autoscroll=False,  # FOLLOW_JS keeps the newest exchange in view instead
                )
                with gr.Row():
                    question = gr.Textbox(
                        show_label=False,
                        placeholder="Ask a question about the documents",
                        elem_id="question",
                        scale=6,
                        submit_btn="Ask",
                        autofocus=True,
                    )
                    clear = gr.Button("Clear chat", elem_id="clear-chat", scale=1, min_width=110)
                examples = gr.Dataset(
                    label="Example questions",
                    components=[question],
                    samples=[[q] for q in EXAMPLES],
                    elem_id="examples",
                )
            with gr.Column(scale=2, min_width=300):
                picker = gr.Dropdown(
                    label="Collection",
                    choices=[],  # each session's own, at its load: never another caller's
                    value=None,
                    info="The documents questions are answered from.",
                    allow_custom_value=True,  # the assistant refuses what the caller may not read
                    elem_id="collection",
                    visible=False,
                )
                gr.Markdown("### Documents")
                table = gr.Dataframe(
                    headers=["Document", "Passages"],
                    datatype=["str", "number"],
                    interactive=False,
                    label="documents",
                    show_label=False,
                    elem_id="documents",
                    max_height=260,
                    value=listed,
                )
                # No file_types: Gradio would refuse the whole batch for one file of another type;
                # each file is checked by its content instead, and refused alone with a reason.
                files = gr.File(
                    label=f"Add {DOCUMENT_TYPES} files (10 MB each)",  # the words of the refusal message
                    file_count="multiple",
                    elem_id="upload",
                    height=120,
                    visible=not read_only,
                )
                status = gr.Markdown(elem_id="upload-status", label="upload status")
                with gr.Row(visible=not read_only):
                    to_remove = gr.Dropdown(
                        label="Remove a document",
                        choices=[row[0] for row in listed],
                        value=None,
                        info="Pick one to take it out of the index.",
                        allow_custom_value=True,
                        scale=3,
                    )
                    remove_btn = gr.Button("Remove", variant="stop", scale=1, min_width=90)

        # The UI's question event (undocumented: scripts use /chat) and the /chat API share the
        # "ask" group; the session's turns travel in gr.State, so sessions never share a history.
        inputs, outputs = [question, turns, collection, labelled], [question, chatbot, turns]
        question.submit(
            respond, inputs, outputs, api_name="respond", api_visibility="undocumented",
            concurrency_limit=ASK_CONCURRENCY, concurrency_id="ask",
        )  # fmt: skip
        examples.click(
            lambda sample: sample[0], examples, question, queue=False, api_visibility="private"
        ).then(
            respond, inputs, outputs, api_visibility="private",
            concurrency_limit=ASK_CONCURRENCY, concurrency_id="ask",
        )  # fmt: skip
        clear.click(lambda: ("", [], []), None, outputs, queue=False, api_visibility="private")
        chatbot.clear(lambda: [], None, turns, queue=False, api_visibility="private")
        gr.api(chat, api_name="chat", concurrency_limit=ASK_CONCURRENCY, concurrency_id="ask")
        gr.api(
            chat_collection, api_name="chat_collection", concurrency_limit=ASK_CONCURRENCY,
            concurrency_id="ask",
        )  # fmt: skip
        gr.api(collections, api_name="collections", queue=False)

        # ... and fresh at each page load (another process may have changed the index since), with
        # the caller's collections
        app.load(
            open_session, None, [picker, collection, labelled, table, to_remove], queue=False,
            api_visibility="private",
        )  # fmt: skip
        picker.input(
            choose, picker, [collection, table, to_remove], api_name="choose_collection", queue=False
        )
        app.load(None, None, None, js=FOLLOW_JS, api_visibility="private")
        if read_only:
            return app
        # Gradio checks that a file path came from an upload only once launched; mounted on FastAPI
        # (`qa serve --chat`) it never is: ask for its check anyway. add_documents checks regardless.
        app.has_launched = True
        files.upload(
            upload,
            [files, collection],
            [status, table],
            api_name="add_documents",
            concurrency_limit=1,
            concurrency_id="index",
            show_progress="full",
            show_progress_on=[status],  # the documents table stays in view while files are read
        ).then(after_upload, collection, [files, to_remove], queue=False, api_visibility="private")
        remove_btn.click(
            remove,
            [to_remove, collection],
            [status, table, to_remove],
            api_name="remove_document",
            concurrency_limit=1,
            concurrency_id="index",
        )
    return app


def upload_guard(app: gr.Blocks, assistant: Assistant, seen: set[str] | None = None) -> Middleware:
    """The bounds on Gradio's upload route (`ui.upload_guard`), for either way the chat is served;
    what it let in (noted in `seen`) is deleted when the process exits (after Ctrl-C, or SIGTERM:
    `_stop_on_sigterm`), and when a mounted chat's server stops (`mount_chat`)."""
    seen = set() if seen is None else seen
    atexit.register(clean_uploads, seen, app.upload_file_set, get_upload_folder())
    return Middleware(
        UploadGuard,
        received=app.upload_file_set,
        seen=seen,
        owners=getattr(app, "upload_owners", None),
        read_only=assistant.settings.read_only,
        max_request_bytes=MAX_UPLOAD_BYTES,
    )


def mount_chat(
    server: Any, assistant: Assistant, path: str, auth: Any, *, credentials: Credentials | None = None,
    guarded: bool | None = None,
) -> None:  # fmt: skip
    """Mount the chat on the FastAPI app `server` at `path` (`qa serve --chat`), with the same
    bounds on uploads as `launch`. `auth`: Gradio's (logins, or a check of them); `guarded`: whether
    its callers are logins or API keys (by default, when it has `auth`)."""
    guarded = auth is not None if guarded is None else guarded
    app = build_app(assistant, credentials=credentials, guarded=guarded)
    bound_queue(app)
    seen: set[str] = set()
    gr.mount_gradio_app(
        server, app, path=path, auth=auth, max_file_size=MAX_UPLOAD_BYTES,
        app_kwargs=gradio_app_kwargs([Middleware(LoginRequired), upload_guard(app, assistant, seen)]),
    )  # fmt: skip
    # uvicorn ends a SIGTERM by raising it again once stopped, so no exit handler runs: clean here
    served = server.router.lifespan_context
    cleaning = cleaning_lifespan(seen, app.upload_file_set, get_upload_folder())

    @contextlib.asynccontextmanager
    async def lifespan(parent: Any) -> AsyncIterator[Any]:
        async with served(parent) as state, cleaning(parent):
            yield state

    server.router.lifespan_context = lifespan


def _stop_on_sigterm() -> None:
    """SIGTERM (a service manager's stop) ends a blocking launch as Ctrl-C does, so the server
    closes and the uploads it holds are deleted (`clean_uploads`, at exit)."""

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, interrupt)


def launch(
    assistant: Assistant,
    host: str = "127.0.0.1",
    port: int = 7860,
    *,
    block: bool = True,
    quiet: bool = False,
    auth: list[tuple[str, str]] | None = None,
    ready: Callable[[str], None] | None = None,
) -> gr.Blocks:
    """Serve the chat on http://host:port; `block=False` returns at once (tests: close it after).
    `auth`: (user, password) pairs that may log in (QA_AUTH), as may the users of the assistant's
    user store; with neither, the chat has no login and whoever reaches it is the operator.
    `ready(url)` is called once the chat listens (`qa chat` says there what it serves)."""
    assistant.warm_up()  # loads the models and the index, building it from the seeds if there is none
    credentials = Credentials(assistant, logins=auth)
    login = credentials.chat_login()
    app = build_app(assistant, credentials=credentials, guarded=login is not None)
    bound_queue(app)  # no client can fill it
    if block:
        _stop_on_sigterm()
    # uvicorn (which Gradio starts) believes X-Forwarded-For from the proxies named here only: by
    # default none, so the address the login brake counts is the connection's (QA_TRUSTED_PROXIES)
    os.environ["FORWARDED_ALLOW_IPS"] = ",".join(trusted_proxies())
    app.launch(
        server_name=host,
        server_port=port,
        prevent_thread_lock=True,  # blocks below, after `ready`
        auth=login,
        # uploads are bounded by UploadGuard and max_file_size as they stream to disk; every other
        # body by BodyLimit
        # outermost first: the Host check against DNS rebinding, the login throttle (ui/access.py)
        app_kwargs=gradio_app_kwargs(
            [
                Middleware(HostCheck, allowed=served_hosts(host)),
                Middleware(LoginThrottle),
                Middleware(LoginRequired),
                Middleware(BodyLimit, exempt=("/gradio_api/upload", "/upload")),
                upload_guard(app, assistant),
            ]
        ),
        auth_message="Log in with your user and password (from the server's QA_AUTH, or `qa users add`).",
        # a cap on what one upload may send; files over 10 MB but under it are refused one by one
        max_file_size=MAX_UPLOAD_BYTES,
        theme=THEME,
        css=CSS,
        footer_links=["api"],
        ssr_mode=False,
        quiet=quiet,
    )
    if ready is not None:
        ready(app.local_url or f"http://{host}:{port}/")
    if block:
        app.block_thread()
    return app
