"""vidlint's ComfyUI nodes: copy or link this folder into ComfyUI/custom_nodes/ and install
vidlint into ComfyUI's Python (``pip install /path/to/vidlint``). The nodes live in
``vidlint.comfy_node``; ComfyUI reads the two mappings below."""

from vidlint.comfy_node import NODE_CLASS_MAPPINGS, NODE_DISPLAY_NAME_MAPPINGS

__all__ = ["NODE_CLASS_MAPPINGS", "NODE_DISPLAY_NAME_MAPPINGS"]
