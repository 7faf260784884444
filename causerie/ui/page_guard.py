"""What the page itself adds so that messages stay inert, behind inert.py (which keeps tags,
images and forms out of what is shown) and the Content-Security-Policy (page_policy.py): each
message kept in its own box, and no submit or navigation from inside one."""

# Every message, and every Markdown block of the page, is its own box: nothing in it is laid out or
# painted outside it (`position: fixed` inside is fixed to the box), and it stacks under the page's
# own controls. What the person wrote (their questions, an imported chat) is shown as written:
# this is what keeps it in its place.
MESSAGE_CSS = """
.gradio-container [data-testid="bot"], .gradio-container [data-testid="user"],
.gradio-container .prose:has(> .md) { contain: layout paint; }
"""

# Gradio's sanitiser (DOMPurify's defaults) removes scripts and event handlers but keeps forms and
# links, so a `<form><button>` shown in a message would reload the page (and lose the chat) when
# clicked. In the capture phase, before any default action: a form submit inside a message (the
# chat's, Compare's, or a Markdown block's) is cancelled, and a link inside one opens in a new tab
# instead of replacing the page.
ANSWER_GUARD_HEAD = """<script>
(() => {
  const inMessage = (node) => node instanceof Element
    && node.closest('[data-testid="bot"], [data-testid="user"], .prose');
  document.addEventListener('submit', (event) => {
    if (inMessage(event.target)) { event.preventDefault(); event.stopImmediatePropagation(); }
  }, true);
  document.addEventListener('click', (event) => {
    const link = event.target instanceof Element ? event.target.closest('a[href], area[href]') : null;
    if (link && inMessage(link) && !link.getAttribute('href').startsWith('#')) {
      link.target = '_blank';
      link.rel = 'noopener noreferrer';
    }
  }, true);
})();
</script>"""
