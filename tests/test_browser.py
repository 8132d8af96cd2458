"""The chat in a real browser: Debian's Chromium driven by Playwright (`apt-get install -y chromium`).

The screenshot of the example question goes to $QA_SCREENSHOT when set (refresh the README's image
with `QA_SCREENSHOT=docs/chat.png pytest -m browser`), else into the test's temporary folder.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from conftest import (
    EXAMPLE_ANSWER,
    EXAMPLE_QUESTION,
    EXAMPLE_SENTENCE,
    OFF_TOPIC_QUESTION,
    SURE_ANSWER,
    SURE_QUESTION,
    serve,
)

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 60_000  # answers on a busy CI machine with the real models


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        message = f"no {CHROMIUM}; install it with `apt-get install -y chromium`"
        pytest.fail(message) if os.environ.get("CI") else pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def open_chat(browser):
    """open_chat(assistant) -> a page showing the launched chat; everything is closed afterwards."""
    opened = []

    def open_(assistant):
        app = serve(assistant)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(TIMEOUT_MS)
        opened.append((app, page))
        page.goto(app.local_url)
        page.locator("#question textarea").wait_for()
        return page

    yield open_
    for app, page in opened:
        page.close()
        app.close()


def ask(page, question: str) -> None:
    box = page.locator("#question textarea")
    box.fill(question)
    box.press("Enter")


@pytest.mark.slow
def test_a_sure_answer_shows_the_answer_and_its_highlighted_source(open_chat, real_assistant, tmp_path):
    page = open_chat(real_assistant)
    ask(page, SURE_QUESTION)
    chat = page.locator("#chat")
    chat.get_by_text("Source: ap-china-russia-sanctions.txt").wait_for()
    mark = chat.locator("mark.qa-answer")  # the latest answer shows its evidence open
    mark.wait_for()
    assert mark.inner_text() == SURE_ANSWER  # the short answer, highlighted in its passage
    answer = real_assistant.ask(SURE_QUESTION)
    assert answer.evidence.text in mark.locator("xpath=..").inner_text()  # ... the passage it came from
    assert real_assistant.reader in page.locator("body").inner_text()
    assert chat.locator(".qa-unsure").count() == 0 and "not sure" not in chat.inner_text()  # a sure answer
    page.mouse.move(0, 0)
    screenshot = Path(os.environ.get("QA_SCREENSHOT") or tmp_path / "chat.png")
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(screenshot), animations="disabled")  # the evidence slides open: finish it
    assert screenshot.stat().st_size > 10_000


@pytest.mark.slow
def test_not_sure_replies_look_different_and_show_the_closest_sentence(open_chat, unsure_assistant):
    from playwright.sync_api import expect

    page = open_chat(unsure_assistant)  # its sure threshold is out of reach: the example is "not sure"
    chat = page.locator("#chat")
    ask(page, EXAMPLE_QUESTION)
    unsure = chat.locator(".qa-unsure")
    unsure.wait_for()
    expect(unsure.locator(".qa-hedge")).to_have_text("I'm not sure. The closest the documents come is:")
    closest = unsure.locator(".qa-closest").first
    expect(closest).to_have_text(EXAMPLE_SENTENCE)  # the sentence, not the passage
    expect(unsure.locator("mark.qa-candidate").first).to_have_text(EXAMPLE_ANSWER)  # the candidate, marked
    expect(unsure.locator(".qa-doc").first).to_have_text("ap-china-russia-sanctions.txt")
    runners_up = unsure_assistant.ask(EXAMPLE_QUESTION).alternatives  # then its runner-up, if close
    expect(unsure.locator(".qa-alternative")).to_have_text([a.sentence for a in runners_up])
    expect(unsure.locator(".qa-alternative mark.qa-candidate")).to_have_text([a.text for a in runners_up])
    chat.get_by_text("Closest passage: ap-china-russia-sanctions.txt").wait_for()  # not "Source: ..."
    looks = unsure.evaluate(
        """e => ({border: getComputedStyle(e).borderLeftStyle,
                  hedge: getComputedStyle(e.querySelector('.qa-hedge')).color,
                  mark: getComputedStyle(e.querySelector('mark.qa-candidate')).backgroundColor})"""
    )
    sure_mark = page.evaluate(
        "() => { const m = document.createElement('mark'); m.className = 'qa-answer';"
        " document.querySelector('#chat').appendChild(m); const c = getComputedStyle(m).backgroundColor;"
        " m.remove(); return c; }"
    )
    assert looks["border"] == "solid"  # the amber bar a sure answer does not have
    assert looks["hedge"] == "rgb(180, 83, 9)" and looks["mark"] != sure_mark

    ask(page, OFF_TOPIC_QUESTION)  # nothing close: "doesn't say", as before
    chat.get_by_text("The document doesn't say.").wait_for()
    expect(chat.locator(".qa-unsure")).to_have_count(1)  # only the earlier reply


def test_example_click_follow_up_clear_and_upload(open_chat, fake_assistant, tmp_path):
    from playwright.sync_api import expect

    page = open_chat(fake_assistant)
    chat = page.locator("#chat")

    page.locator("#examples").get_by_text("Who is Meng Wanzhou?").click()
    chat.get_by_text("Source: ap-china-russia-sanctions.txt").first.wait_for()
    ask(page, "When was she detained?")
    chat.get_by_text("Searched for: When was Meng Wanzhou detained?").wait_for()
    expect(chat.locator("mark.qa-answer")).to_have_count(1)  # the first answer's evidence is closed now

    page.locator("#clear-chat").click()
    chat.get_by_text("Who is Meng Wanzhou?").wait_for(state="detached")
    ask(page, "When was she detained?")  # no history any more: nothing to resolve "she" with
    chat.get_by_text("The document doesn't say.").wait_for()

    notes = tmp_path / "harbour.md"
    notes.write_text("The lighthouse keeper of Port Elin is Agnes Varga.\n", encoding="utf-8")
    page.locator("#upload input[type=file]").set_input_files(str(notes))
    page.locator("#upload-status").get_by_text("Added harbour.md").wait_for()
    page.locator("#documents").get_by_text("harbour.md").wait_for()


def test_a_mixed_batch_reports_each_file_and_names_are_shown_as_text(open_chat, fake_assistant, tmp_path):
    from playwright.sync_api import expect

    markup = tmp_path / "<img src=x onerror=\"document.title='XSS'\">.txt"  # as `qa index` would add it
    markup.write_text("The lighthouse keeper of Port Elin is Agnes Varga.\n", encoding="utf-8")
    fake_assistant.index([markup])
    page = open_chat(fake_assistant)
    documents = page.locator("#documents")
    expect(documents).to_contain_text(markup.name)  # the name as text, not an element

    hidden = tmp_path / ".notes.md"
    hidden.write_text("The harbour master of Port Elin is Ivo Petrov.\n", encoding="utf-8")
    big = tmp_path / "big.txt"
    big.write_bytes(b"a" * (10 * 1024 * 1024 + 1))
    page.locator("#upload input[type=file]").set_input_files([str(hidden), str(big)])
    status = page.locator("#upload-status")
    status.get_by_text("big.txt: 10.5 MB is over the 10 MB limit").wait_for()
    assert "Added .notes.md (1 passage)" in status.inner_text()
    documents.get_by_text(".notes.md").wait_for()

    ask(page, "Who is the lighthouse keeper of Port Elin?")
    page.locator("#chat").get_by_text(f"Source: {markup.name}").wait_for()
    assert page.locator("img[src=x]").count() == 0
    assert page.title() != "XSS"


# The questions, in its order: the two abstentions open long "Closest passages" blocks, after
# which the chat used to stop following and every later answer landed below its visible part.
FIVE_QUESTIONS = [
    "Who was sanctioned by China?",
    "What is the capital of France?",
    "What is the tallest mountain in Peru?",
    "When was Meng Wanzhou detained in Canada?",
    "Who is the Canadian prime minister?",
]
_BOXES = """() => {
    const log = document.querySelector('#chat [role=log]');
    const box = e => { const r = e.getBoundingClientRect(); return [r.top, r.bottom]; };
    const users = log.querySelectorAll('.message-row.user-row');
    const bots = log.querySelectorAll('.message-row.bot-row');
    return {view: box(log), question: box(users[users.length - 1]),
            answer: box(bots[bots.length - 1].querySelector('[data-testid=bot]')),  // the short answer
            answers: bots.length, scroll: log.scrollTop};
}"""


@pytest.mark.slow
def test_the_newest_exchange_always_comes_into_view(open_chat, real_assistant):
    page = open_chat(real_assistant)
    for number, question in enumerate(FIVE_QUESTIONS, start=1):
        ask(page, question)
        page.wait_for_function(f"document.querySelectorAll('#chat .message-row.bot-row').length >= {number}")
        page.wait_for_timeout(1_000)  # the evidence has slid open
        boxes = page.evaluate(_BOXES)
        top, bottom = boxes["view"]
        for what in ("question", "answer"):
            start, end = boxes[what]
            assert top - 1 <= start and end <= bottom + 1, (question, what, boxes)

    # a person who scrolls up on purpose is left there
    log = page.locator("#chat [role=log]")
    log.hover()
    page.mouse.wheel(0, -400)
    page.wait_for_timeout(1_500)
    scrolled = page.evaluate(_BOXES)["scroll"]
    assert scrolled < boxes["scroll"] - 100
    page.wait_for_timeout(1_000)
    assert page.evaluate(_BOXES)["scroll"] == scrolled


def test_a_blank_question_is_one_line_and_the_conversation_stays(open_chat, fake_assistant):
    from playwright.sync_api import expect

    page = open_chat(fake_assistant)
    chat = page.locator("#chat")
    ask(page, "Who is Meng Wanzhou?")
    chat.get_by_text("Source: ap-china-russia-sanctions.txt").wait_for()
    before = chat.inner_text()

    ask(page, "   ")
    page.get_by_text("the question is empty").first.wait_for()  # said once, in a line of its own
    page.wait_for_timeout(1_000)
    assert page.get_by_text("the question is empty").count() == 1
    expect(page.locator("#chat .error, #question .error")).to_have_count(0)  # no red "Error" badges
    assert chat.inner_text() == before  # the conversation is left as it was
    assert chat.get_by_text("Who is Meng Wanzhou?").is_visible()

    ask(page, "When was she detained?")  # and the chat goes on
    chat.get_by_text("Searched for: When was Meng Wanzhou detained?").wait_for()


def test_the_documents_are_listed_as_the_page_appears(browser, fake_assistant):
    """No empty table or removal list while the page loads: every frame that shows the table shows
    the document (the list used to be filled by a request made after the page appeared)."""
    app = serve(fake_assistant)  # builds the index from the seeds first
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(TIMEOUT_MS)
    page.add_init_script("""
        window.__frames = [];
        const look = () => {
            const table = document.querySelector('#documents');
            if (table) window.__frames.push(table.innerText.includes('ap-china-russia-sanctions.txt'));
            if (window.__frames.length < 30) requestAnimationFrame(look);
        };
        requestAnimationFrame(look);
    """)
    try:
        page.goto(app.local_url)
        page.wait_for_function("window.__frames.length >= 30")
        frames = page.evaluate("window.__frames")
        assert frames and all(frames), frames
        page.get_by_label("Remove a document").click()
        page.get_by_role("option", name="ap-china-russia-sanctions.txt").wait_for()
    finally:
        page.close()
        app.close()
