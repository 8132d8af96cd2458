"""The chat keeps the newest exchange in view, unless the person scrolled up on purpose.

Gradio's own autoscroll follows only while the view is within 100 px of the bottom when an update
lands; an answer that adds more (an abstention's open "Closest passages") leaves the view behind, and
from then on every later answer lands below the visible part. So the chat turns it off
(`autoscroll=False`) and runs `FOLLOW_JS` in the page instead:

- when the conversation grows (a question, its answer, the evidence sliding open), the view scrolls so
  the newest question is at the top, or to the bottom when the newest exchange fits;
- a scroll made by the person (wheel, touch, keys, the scroll bar) away from the bottom stops that,
  until they scroll back down or ask the next question.
"""

from __future__ import annotations

FOLLOW_JS = """
() => {
  const chat = document.querySelector('#chat');
  if (!chat || chat.dataset.follow) return;
  chat.dataset.follow = 'on';
  const GROWING_MS = 2000;  // after the end grew: the evidence slides open
  let follow = true, seen = '', users = 0, grew = 0, touched = 0, placed = -1;
  const log = () => chat.querySelector('[role=log]');
  const atBottom = (el) => el.scrollHeight - el.scrollTop - el.clientHeight < 40;
  const show = () => {
    const el = log();
    if (!el) { seen = ''; users = 0; return; }
    const all = el.querySelectorAll('.message-row');
    const asked = el.querySelectorAll('.message-row.user-row');
    // the conversation grew at its end: a row more, or the last row changed (a pending answer arrived)
    const now = all.length + ':' + (all.length ? all[all.length - 1].textContent.length : 0);
    if (now !== seen) {
      if (asked.length > users) follow = true;  // a new question: the person wants its answer
      seen = now; users = asked.length; grew = performance.now();
    }
    if (!follow || performance.now() - grew > GROWING_MS || !asked.length) return;
    const question = asked[asked.length - 1];
    const offset = question.getBoundingClientRect().top - el.getBoundingClientRect().top;
    el.scrollTop = Math.min(el.scrollTop + offset - 8, el.scrollHeight - el.clientHeight);
    placed = el.scrollTop;  // the scroll event this causes is ours, not the person's
  };
  const intent = () => { touched = performance.now(); };
  for (const name of ['wheel', 'touchmove', 'keydown', 'pointerdown']) {
    chat.addEventListener(name, intent, {capture: true, passive: true});
  }
  chat.addEventListener('scroll', (event) => {
    const el = log();
    if (event.target !== el || Math.abs(el.scrollTop - placed) < 2) return;
    if (performance.now() - touched < 1000) follow = atBottom(el);
  }, {capture: true, passive: true});
  const sizes = new ResizeObserver(show);
  let watched = null;
  new MutationObserver(() => {
    const content = chat.querySelector('.message-wrap');
    if (content !== watched) {
      if (watched) sizes.unobserve(watched);
      if (content) sizes.observe(content);
      watched = content;
    }
    show();
  }).observe(chat, {childList: true, subtree: true});
}
"""

__all__ = ["FOLLOW_JS"]
