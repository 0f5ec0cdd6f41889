"""A fitted adapt space as one plain `nn.Module`: images (as the model sees them) -> logits.

`export` saves what adapting chose, so a space other than the run's own model (raw pixels, a
pretrained network, fine-tuned features) has to be a module too. Each computes exactly what its
space's `logits` computes, with tensor operations ONNX and TorchScript both save.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

FAR = -2.0  # below any cosine similarity: a class without a labelled image never wins


def centred_unit(images: torch.Tensor) -> torch.Tensor:
    """Raw-pixel features: each image flattened, centred and scaled to unit length."""
    flat = images.float().flatten(1)
    return F.normalize(flat - flat.mean(dim=1, keepdim=True), dim=1)


class NearestPixels(nn.Module):
    """Each class scored by its most similar labelled image, by cosine on centred raw pixels."""

    def __init__(self, support_features: torch.Tensor, support_y: torch.Tensor, ways: int) -> None:
        super().__init__()
        self.register_buffer("support", support_features.float())
        self.register_buffer("members", F.one_hot(support_y.long(), ways).T.bool())  # (ways, support)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        similarity = centred_unit(images) @ self.support.T  # (queries, support)
        return similarity[:, None, :].masked_fill(~self.members[None], FAR).amax(dim=2)


class CosineHead(nn.Module):
    """`scale` x cosine between a network's features and one weight vector per class."""

    def __init__(self, encoder: nn.Module, head: torch.Tensor, scale: float = 1.0) -> None:
        super().__init__()
        self.encoder, self.scale = encoder, float(scale)
        self.register_buffer("head", F.normalize(head.detach().float(), dim=1))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        features = F.normalize(self.encoder(images).float().flatten(1), dim=1)
        return self.scale * features @ self.head.T
