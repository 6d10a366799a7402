"""Cross-entropy through the tied LM head, computed in row chunks.

With a 50257-wide vocabulary the [tokens, vocab] logits dominate CPU training:
log_softmax, its backward and zero-filling the gradient cost more than the matmuls.
This computes the loss and the gradient (softmax - onehot) chunk by chunk in the
forward pass, so the full logits tensor never exists. Exact, not an approximation.
"""
import torch


class ChunkedLMLoss(torch.autograd.Function):
    @staticmethod
    def forward(ctx, h, w, targets, chunk):
        n = h.shape[0]
        grad_h = torch.empty_like(h)
        grad_w = torch.zeros_like(w)
        total = h.new_zeros(())
        for i in range(0, n, chunk):
            hc, t = h[i:i + chunk], targets[i:i + chunk]
            logits = hc @ w.t()
            lse = torch.logsumexp(logits, dim=1)
            total += (lse - logits.gather(1, t[:, None]).squeeze(1)).sum()
            probs = logits.sub_(lse[:, None]).exp_()
            probs[torch.arange(len(t)), t] -= 1.0
            probs /= n
            grad_h[i:i + chunk] = probs @ w
            grad_w.addmm_(probs.t(), hc)
        ctx.save_for_backward(grad_h, grad_w)
        return total / n

    @staticmethod
    def backward(ctx, g):
        grad_h, grad_w = ctx.saved_tensors
        return grad_h * g, grad_w * g, None, None


def lm_loss(hidden, weight, targets, chunk=256):
    """Mean next-token cross-entropy of `hidden` [N, d] against tied `weight` [V, d]."""
    return ChunkedLMLoss.apply(hidden, weight, targets, chunk)
