"""Writing an adapted module as ONNX or TorchScript, with its class names inside and beside it.

Both take images as float32 (batch, channels, size, size) in [0, 1] under the
input name `images` and give `probabilities` (batch, classes); the batch size is free.
"""

from __future__ import annotations

import warnings

import torch
from torch import nn

from workbench.export.adapted import ExportError

FORMATS = ("onnx", "torchscript")
INPUT_NAME = "images"
OUTPUT_NAME = "probabilities"


def onnx_bytes(module: nn.Module, example: torch.Tensor, metadata: dict[str, str]) -> bytes:
    # metadata values are JSON texts, e.g. {"classes": '["cat", "dog"]'}
    """ONNX through torch.export (needs the onnx and onnxscript packages); metadata goes into metadata_props."""
    try:
        import onnx
    except ImportError:
        raise ExportError("ONNX export needs the 'onnx' and 'onnxscript' packages: pip install onnx onnxscript.") from None
    batch = torch.export.Dim("batch", min=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporter's notes on its own internals are not the user's business
        try:
            program = torch.onnx.export(
                module, (example,), input_names=[INPUT_NAME], output_names=[OUTPUT_NAME],
                dynamic_shapes={"images": {0: batch}}, dynamo=True, verbose=False,
            )
        except ImportError as exc:
            raise ExportError(f"ONNX export needs a package that is missing ({exc}): pip install onnx onnxscript.") from None
    model = program.model_proto
    onnx.helper.set_model_props(model, metadata)
    return model.SerializeToString()


def torchscript_bytes(module: nn.Module, example: torch.Tensor, metadata: dict[str, str]) -> bytes:
    """A traced TorchScript module; metadata is stored as extra files (`torch.jit.load(..., _extra_files=...)`)."""
    import io

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch marks TorchScript deprecated; users asking for it still get it
        traced = torch.jit.trace(module, (example,), check_trace=False)
        buffer = io.BytesIO()
        torch.jit.save(traced, buffer, _extra_files={f"{key}.json": value for key, value in metadata.items()})
    return buffer.getvalue()
