"""What a user would otherwise pick: Gradio's own gr.load_chat, pointed at the paced server.

Its defaults, except the concurrency limit, lifted (with the default of 1, 100 users would be
served one after another and the comparison would say nothing about per-token cost).
"""

import os

import gradio as gr

demo = gr.load_chat(os.environ["PACED_BASE_URL"], model="paced", token="placeholder", concurrency_limit=None)

if __name__ == "__main__":
    demo.launch(server_name="127.0.0.1", server_port=int(os.environ["GRADIO_SERVER_PORT"]))
