"""The chat: a Gradio app over `qa.Assistant` (`qa chat`). Imports only `qa`."""

import os

# The assistant works offline: no usage analytics, no version check from Gradio.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
