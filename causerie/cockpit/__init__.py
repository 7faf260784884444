"""The owner's cockpit: the numbers of the answer records (no Gradio; the page is ui/cockpit_page.py)."""
