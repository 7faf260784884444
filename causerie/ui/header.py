"""The page's frame: the top bar (the name and logo, the settings button, the keyboard shortcuts),
the theme, and the layout's CSS: the chat owns the screen, the sidebars are drawers on a narrow
one (PROTOCOL.md, "Layout")."""

from __future__ import annotations

import gradio as gr

from .labels import Labels

DRAWERS_BELOW_PX = 1100
"""Below this width both sidebars are drawers over the chat, closed when the page opens; above
it the conversations stay beside the chat. The settings are a drawer at every width."""

LOGO = (
    '<svg class="logo" viewBox="0 0 32 32" width="26" height="26" aria-hidden="true">'
    '<path d="M6 4h20a4 4 0 0 1 4 4v12a4 4 0 0 1-4 4H13l-7 6v-6a4 4 0 0 1-4-4V8a4 4 0 0 1 4-4z" fill="currentColor"/>'
    '<circle cx="10" cy="14" r="2" fill="#fff"/><circle cx="16" cy="14" r="2" fill="#fff"/>'
    '<circle cx="22" cy="14" r="2" fill="#fff"/></svg>'
)


def build_top_bar(say: Labels) -> None:
    """The name and logo at the top left; on the right, the settings and the shortcuts' list
    (their keys: js/shortcuts.js)."""
    with gr.Row(elem_id="top-bar", equal_height=True):
        gr.HTML(f'<h1 class="brand">{LOGO}<span>Causerie</span></h1>', elem_id="brand", padding=False)
        gr.Button(say("show_shortcuts"), elem_id="show-shortcuts", size="sm", variant="secondary", scale=0).click(
            None, None, None, js="() => document.documentElement.classList.toggle('causerie-shortcuts')", api_visibility="private"
        )
        gr.Button(say("open_settings"), elem_id="open-settings", size="sm", variant="secondary", scale=0).click(
            None, None, None, js="() => document.querySelector('#settings .toggle-button')?.click()", api_visibility="private"
        )
    with gr.Column(elem_id="shortcuts"):
        gr.Markdown(say("shortcuts"))


def theme() -> gr.themes.Base:
    """Calm and readable, light and dark: indigo (the logo's) on slate, the system's own fonts
    (the page fetches nothing from elsewhere)."""
    system = ["ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "sans-serif"]
    mono = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "Liberation Mono", "monospace"]
    return gr.themes.Soft(
        primary_hue="indigo",
        secondary_hue="indigo",
        neutral_hue="slate",
        radius_size="md",
        font=system,
        font_mono=mono,
    ).set(
        button_primary_background_fill="*primary_600",
        button_primary_background_fill_hover="*primary_700",
        button_primary_text_color="white",
        button_primary_background_fill_dark="*primary_600",
        button_primary_background_fill_hover_dark="*primary_500",
        # (Contrast: Soft's labels are indigo 500 on indigo 100, 3.6:1; these pass 4.5:1.)
        block_label_text_color="*primary_700",
        block_title_text_color="*primary_700",
        block_info_text_color="*neutral_600",
        color_accent="*primary_600",  # (the selected tab's label: indigo 500 on white is 4.47:1)
        color_accent_soft="*primary_100",
        checkbox_label_background_fill_selected="*primary_600",
        checkbox_label_background_fill_selected_dark="*primary_600",
        body_text_color_subdued="*neutral_600",
        body_text_color_subdued_dark="*neutral_300",
    )


CSS = f"""
/* The chat owns the screen: full width, the sidebars drawers below {DRAWERS_BELOW_PX}px. */
.gradio-container .sidebar-parent:has(#settings.open) {{ padding-right: 0 !important; }}
@media (max-width: {DRAWERS_BELOW_PX - 1}px) {{
  .gradio-container .sidebar-parent {{ padding-left: 0 !important; padding-right: 0 !important; }}
}}
#conversations, #settings {{ --drawer: min(20rem, 88vw); }}
@media (max-width: 768px) {{
  .gradio-container #conversations, .gradio-container #settings {{ width: var(--drawer) !important; }}
  .gradio-container #conversations {{ left: calc(-1 * var(--drawer)) !important; }}
  .gradio-container #settings {{ right: calc(-1 * var(--drawer)) !important; }}
}}
#conversations.open, #settings.open {{ box-shadow: 0 0 24px rgb(0 0 0 / 0.18); }}
#settings:not(.open) .toggle-button {{ display: none; }}
/* A closed drawer is out of the way of the keyboard and of screen readers too. */
#conversations:not(.open) .sidebar-content, #settings:not(.open) .sidebar-content {{ visibility: hidden; }}
/* The top bar, clear of the conversations' toggle. */
#top-bar {{ padding-left: 2.25rem; align-items: center; gap: 0.5rem; flex-wrap: nowrap; }}
#brand {{ flex: 1 1 auto; }}
#brand .brand {{ display: flex; align-items: center; gap: 0.5rem; font-weight: 650; font-size: 1.15rem; margin: 0;
  color: var(--body-text-color); }}
#brand .logo {{ color: var(--color-accent); flex: none; }}
#top-bar button {{ white-space: nowrap; min-width: max-content !important; }}
#model-bar {{ gap: 0.5rem; flex-wrap: wrap; }}
#model-bar > *:not(#model-facts) {{ border: 1px solid var(--border-color-primary); border-radius: var(--radius-md); }}
#model-bar > #model-facts {{ align-self: center; font-size: var(--text-sm); color: var(--body-text-color-subdued);
  flex: 1 1 12rem; padding: 0; }}
/* The composer stays in sight: the chat takes what the bars above and the box below leave. */
#chatbot {{ height: calc(100dvh - 20rem) !important; min-height: 260px; }}
@media (max-width: 768px) {{
  #chatbot {{ height: calc(100dvh - 25rem) !important; }}
  #show-shortcuts {{ display: none; }}  /* (a phone has no keyboard shortcuts) */
  #brand .brand {{ font-size: 1.05rem; }}
}}
#chat-input {{ border: 1px solid var(--border-color-primary); border-radius: var(--radius-xl);
  box-shadow: 0 1px 6px rgb(0 0 0 / 0.06); }}
.causerie-embed #chatbot {{ height: calc(100dvh - 12rem) !important; }}
/* Answers are read at a glance: a line of text stays a reading length. */
#chatbot .message .prose, #compare-sides .message .prose {{ max-width: 46rem; }}
#chatbot .message-row.bot-row .message {{ max-width: min(100%, 50rem); }}
/* A temporary chat says so above it while it lasts (conversation_list_page.TEMPORARY_JS). */
#temporary-note {{ display: none !important; }}
html.causerie-temporary .gradio-container #temporary-note {{ display: block !important; padding: 0.4rem 0.75rem;
  border: 1px dashed var(--color-accent); border-radius: var(--radius-md); background: var(--color-accent-soft); }}
html.causerie-temporary .gradio-container #chat-input {{ border-style: dashed; border-color: var(--color-accent); }}
/* The shortcuts' list: over the page while open (`?`, Esc closes). */
#shortcuts {{ display: none !important; }}
html.causerie-shortcuts .gradio-container #shortcuts {{ display: block !important; position: fixed; z-index: 2000; top: 4rem;
  left: 50%; transform: translateX(-50%); width: min(28rem, 92vw); padding: 1rem 1.25rem;
  background: var(--background-fill-primary); border: 1px solid var(--border-color-primary);
  border-radius: var(--radius-lg); box-shadow: 0 8px 32px rgb(0 0 0 / 0.25); }}
/* The selected tab's label on the dark page (the theme has one accent for both). */
.dark .gradio-container [role="tab"][aria-selected="true"] {{ color: var(--primary-300) !important; }}
/* Contrast and keyboard (axe-core): Gradio's timer text is too faint; a summary never scrolls. */
.gradio-container .meta-text, .gradio-container .meta-text-center {{ color: var(--body-text-color-subdued) !important; }}
#leaderboard-summary, #history-notice, #session-totals, #compare-note {{ overflow: visible !important; }}
#leaderboard-summary *, #history-notice *, #session-totals *, #compare-note * {{ overflow: visible !important; max-height: none !important; }}
/* Words are never broken mid-word in tables (the providers' table, the leaderboard's heads). */
#settings table td, #settings table th, #leaderboard th, #leaderboard th .header {{ word-break: normal;
  overflow-wrap: normal; hyphens: manual; }}
"""

THEME_COLOUR = "#4f46e5"
"""The browser's colour for the installed app's window (Gradio's manifest has none): indigo 600."""

LAYOUT_HEAD = f'<meta name="theme-color" content="{THEME_COLOUR}"><style>{CSS}</style>'
"""The layout's CSS, in the page's head: Gradio puts `.gradio-container … .contain` before every
rule of `css=` in a media query, and the sidebars' parent is outside `.contain`."""
