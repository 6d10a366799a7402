"""Cross-entropy through the tied LM head, computed in row chunks.

With a 50257-wide vocabulary the [tokens, vocab] logits dominate CPU training:
log_softmax, its backward and zero-filling the gradient cost more than the matmuls.
This computes the loss and the gradient (softmax - onehot) chunk by chunk in the
forward pass, so the full logits tensor never exists. Exact, not an approximation.

With `matmul_dtype=torch.bfloat16` the three matmuls run in bf16 (about 2.3x the
fp32 GFLOP/s on AVX-512 BF16 CPUs); log-sum-exp, the softmax and both gradient
accumulators stay in fp32, as in the usual mixed-precision recipe.
"""
import torch


class ChunkedLMLoss(torch.autograd.Function):
    @staticmethod
    def forward(ctx, h, w, targets, chunk, matmul_dtype):
        n = h.shape[0]
        h, w = h.float(), w.float()
        grad_h = torch.empty_like(h)
        grad_w = torch.zeros_like(w)
        total = h.new_zeros(())
        hm, wm = h.to(matmul_dtype), w.to(matmul_dtype)
        for i in range(0, n, chunk):
            hc, t = hm[i:i + chunk], targets[i:i + chunk]
            logits = (hc @ wm.t()).float()
            lse = torch.logsumexp(logits, dim=1)
            total += (lse - logits.gather(1, t[:, None]).squeeze(1)).sum()
            probs = logits.sub_(lse[:, None]).exp_()
            probs[torch.arange(len(t)), t] -= 1.0
            probs /= n
            probs = probs.to(matmul_dtype)
            grad_h[i:i + chunk] = probs @ wm
            grad_w += probs.t() @ hc
        ctx.save_for_backward(grad_h, grad_w)
        return total / n

    @staticmethod
    def backward(ctx, g):
        grad_h, grad_w = ctx.saved_tensors
        return grad_h * g, grad_w * g, None, None, None


def lm_loss(hidden, weight, targets, chunk=256, matmul_dtype=torch.float32):
    """Mean next-token cross-entropy of `hidden` [N, d] against tied `weight` [V, d]."""
    return ChunkedLMLoss.apply(hidden, weight, targets, chunk, matmul_dtype)
