"""Tools a model may call: MCP servers' tools (`mcp_client`), offered as functions (`functions`),
each call approved by a person (`approvals`). No Gradio, and no answering: the tool rounds that
use them are answering/tool_rounds.py."""
