"""The meta-update every episodic algorithm shares: a method writes only the loss of one episode.

    class MyMethod(EpisodicAlgorithm):
        def episode_loss(self, episode):
            ...
            return loss, logits    # logits (n_query, ways): their argmax is the accuracy

The base does the rest, the same way for every such algorithm: training mode, zero the
gradients, for each episode (answering pause and cancel between them) the loss, a refusal
to step on a non-finite one, and backward of its share of the batch mean; then the
gradient clipping the algorithm asks for (`grad_clip`), the optimiser steps, the learning
rate schedule, and the statistics.
"""

from __future__ import annotations

import torch
from torch import nn

from workbench.algorithms.base import Algorithm, StepStats
from workbench.data.episode import Episode


class EpisodicAlgorithm(Algorithm):
    """An algorithm whose meta-update is plain backprop of the mean episode loss.

    `episode_loss` may return a third value, the loss to report when it differs from the one
    minimised (LEO reports the classification loss without its regularisers).
    """

    def episode_loss(self, episode: Episode) -> tuple[torch.Tensor, ...]:
        """(loss, query logits) of one episode, with the graph to the weights."""
        raise NotImplementedError

    def meta_train(self, episodes: list[Episode]) -> StepStats:
        self.train_mode(True)
        optimizers = list(self.optimizers().values())
        for optimizer in optimizers:
            optimizer.zero_grad(set_to_none=True)
        total_loss, correct, count = 0.0, 0, 0
        for episode in episodes:
            self.between_episodes()
            loss, logits, *reported = self.episode_loss(episode)
            self.check_finite(loss)
            # The gradient is the mean over the batch's episodes: training/distributed.py relies on it
            # (each process's mean, weighted by its share and summed, is the whole batch's mean).
            (loss / len(episodes)).backward()
            total_loss += (reported[0] if reported else loss).item()
            correct += (logits.argmax(1) == episode.query_y).sum().item()
            count += len(episode.query_y)
        self.clip_gradients()
        for optimizer in optimizers:
            optimizer.step()
        if self.scheduler is not None:
            self.scheduler.step()
        return StepStats(total_loss / len(episodes), correct / count)

    def clip_gradients(self) -> None:
        """Clip the gradient norm to the `grad_clip` setting, for an algorithm that has one (0: no clipping)."""
        clip = self.hparams.get("grad_clip", 0.0)
        if clip > 0:
            nn.utils.clip_grad_norm_([p for m in self.modules().values() for p in m.parameters()], clip)
