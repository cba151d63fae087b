"""A character-level GPT on Tiny Shakespeare, at nanoGPT's CPU configuration (Karpathy's nanoGPT README,
"baby GPT" on a CPU: block 64, batch 12, 4 layers, 4 heads, 128 embedding, no dropout, 2,000 iterations at
learning rate 1e-3 with a cosine decay to 1e-4; "validation loss 1.88 in about 3 minutes").

The full preset IS that configuration, run once on this machine, with nanoGPT's 90 / 10 split; its training
time is reported as ``train_time_s`` (wall) and ``train_cpu_s`` (CPU time of the process, 1 thread: on a
shared machine the wall time also counts other processes). nanoGPT's GPU configuration (block 256, batch 64,
6 layers, 6 heads, 384 embedding, dropout 0.2, 5,000 iterations; validation loss 1.4697) is
``--full block_size=256 batch_size=64 n_layer=6 n_head=6 n_embd=384 dropout=0.2 iters=5000``, a GPU-sized run.
The quick preset trains a 2-layer model for 300 iterations on the first 200,000 training characters and must
beat the unigram model (context-free character frequencies) by a clear margin; it also checks that no logit
depends on a later character (``causal_leak``).

The issue's target is a GPT "below the char-RNN's validation loss at equal parameter count". With ``rnn=True``
(the full preset's default) the run also trains the RNN module's character LSTM (:class:`deepcourse.rnn.CharLM`,
``rnn_layers`` layers of ``rnn_embed``-wide embeddings) whose hidden width is chosen so that its parameter count
is the closest to the GPT's, on the same training text, for the same number of steps of the same batch of
windows of the same length, with the same optimiser, schedule, clipping and weight decay (only its peak rate
differs: ``rnn_lr``, char-rnn's 2e-3, scaled with ``min_lr``; not tuned). Both are scored on the same random
validation windows, each read from a zero state, so the LSTM also sees at most ``block_size`` characters of
context. ``gpt_minus_rnn_val`` < 0 means the GPT wins.

Recorded run (results/char-gpt-shakespeare.json, ``--full``, 1 thread of a shared 2-core CPU, 566 s wall): GPT
809,856 parameters, validation loss 1.900 (121 s of CPU); char-LSTM 1 x 410, 811,515 parameters, 1.644 (111 s of
CPU). At nanoGPT's CPU configuration the LSTM wins by 0.26 nats: the issue's target (GPT below the char-RNN at
equal parameter count) is NOT met at this size (the GPU configuration, with ``rnn=true``, was not run here).
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor, nn

from deepcourse.core import Reference, Run, at_most, count_parameters, experiment, param
from deepcourse.data import load_char_corpus
from deepcourse.rnn import CharLM
from deepcourse.transformers import GPT, POSITIONAL
from deepcourse.transformers.language_modelling import causal_leak, lm_eval_loss, train_lm, unigram_loss


@dataclass
class CharGPTConfig:
    block_size: int = param(64, ge=2)
    batch_size: int = param(12, ge=1)
    n_layer: int = param(4, ge=1)
    n_head: int = param(4, ge=1)
    n_embd: int = param(128, ge=2)
    dropout: float = param(0.0, ge=0, lt=1)
    positional: str = param("learned", choices=POSITIONAL)
    iters: int = param(2000, ge=1)
    lr: float = param(1e-3, gt=0)
    min_lr: float = param(1e-4, gt=0)
    warmup: int = param(100, ge=0)
    weight_decay: float = param(0.1, ge=0)
    train_chars: int | None = param(None, ge=1000, help="first N training characters (None: all)")
    eval_batches: int = param(200, ge=1, help="random validation windows x batch_size for the validation loss")
    sample_chars: int = param(500, ge=0)
    rnn: bool = param(True, help="also train a char-LSTM with the GPT's parameter count (same data, steps, batch)")
    rnn_layers: int = param(1, ge=1)
    rnn_embed: int = param(64, ge=2)
    rnn_lr: float = param(2e-3, gt=0, help="the LSTM's peak rate (its floor: rnn_lr * min_lr / lr)")


class LogitsOnly(nn.Module):
    """A :class:`CharLM` that returns only its logits (each call starts from a zero state), so the GPT's
    training loop and validation estimate take it unchanged."""

    def __init__(self, lm: CharLM):
        super().__init__()
        self.lm = lm

    def forward(self, x: Tensor) -> Tensor:
        return self.lm(x)[0]


def matched_char_lstm(params: int, vocab: int, layers: int, embed: int) -> CharLM:
    """The :class:`CharLM` whose parameter count is the closest to ``params`` (over hidden widths 4-4096)."""
    def count(h: int) -> int:  # nn.LSTM: 4h(in + h) weights and 8h biases per layer; embedding; head
        return vocab * embed + sum(4 * h * ((embed if i == 0 else h) + h) + 8 * h for i in range(layers)) \
            + h * vocab + vocab
    hidden = min(range(4, 4097), key=lambda h: abs(count(h) - params))
    return CharLM(vocab, hidden=hidden, layers=layers, embed=embed)


QUICK = CharGPTConfig(block_size=32, batch_size=16, n_layer=2, n_head=2, n_embd=64, iters=300, lr=3e-3, min_lr=3e-4,
                      warmup=20, train_chars=200_000, eval_batches=20, sample_chars=200, rnn=False)


@experiment(
    name="char-gpt-shakespeare", module="8", title="A character-level GPT on Tiny Shakespeare (nanoGPT's CPU config)",
    paper=Reference("Karpathy, nanoGPT README (shakespeare_char, CPU 'baby GPT' configuration)",
                    {"val_loss": 1.88},
                    context={"nanoGPT GPU config (6x384, block 256, 5,000 iters): val loss": 1.4697,
                             "nanoGPT CPU config: minutes of training on a MacBook": 3.0}),
    quick=QUICK, full=CharGPTConfig(),
    # seeds 0-4, threads 1: val_loss 2.46-2.50, unigram_minus_val 0.857-0.895, causal_leak 0 (threads 2 not
    # measured: the machine was overloaded); untrained (iters=3): unigram_minus_val -0.67, fails
    floor={"unigram_minus_val": 0.5, "causal_leak": at_most(1e-4)}, primary="val_loss", threads=1,
)
def char_gpt_shakespeare(cfg: CharGPTConfig, run: Run) -> dict[str, float]:
    """Decoder-only transformer LM: next-character cross-entropy on nanoGPT's validation tenth."""
    corpus = load_char_corpus("tinyshakespeare", val=0.1, root=run.data_root)
    train = corpus.train if cfg.train_chars is None else corpus.train[:cfg.train_chars]
    run.manual_seed("model")
    model = GPT(corpus.vocab_size, cfg.block_size, cfg.n_layer, cfg.n_head, cfg.n_embd, cfg.dropout, cfg.positional)
    seconds, cpu_seconds = train_lm(model, train, run, block=cfg.block_size, batch=cfg.batch_size, iters=cfg.iters,
                                    lr=cfg.lr, min_lr=cfg.min_lr, warmup=cfg.warmup, weight_decay=cfg.weight_decay,
                                    name="gpt")
    seed = run.seed_for("eval") % 2**31
    val = lm_eval_loss(model, corpus.val, cfg.block_size, cfg.eval_batches, cfg.batch_size, seed)
    tr = lm_eval_loss(model, train, cfg.block_size, cfg.eval_batches, cfg.batch_size, seed)
    uni = unigram_loss(train, corpus.val, corpus.vocab_size)
    leak = causal_leak(model, corpus.vocab_size, cfg.block_size)
    gpt_params = count_parameters(model)
    rows = [{"model": f"GPT {cfg.n_layer}x{cfg.n_embd}, {cfg.n_head} heads, block {cfg.block_size}",
             "params": gpt_params, "iters": cfg.iters, "train loss": tr, "val loss": val,
             "train wall time (s)": seconds, "train CPU time (s)": cpu_seconds}]
    out = {}
    if cfg.rnn:
        run.manual_seed("rnn")
        lstm = matched_char_lstm(gpt_params, corpus.vocab_size, cfg.rnn_layers, cfg.rnn_embed)
        rnn = LogitsOnly(lstm)
        r_sec, r_cpu = train_lm(rnn, train, run, block=cfg.block_size, batch=cfg.batch_size, iters=cfg.iters,
                                lr=cfg.rnn_lr, min_lr=cfg.rnn_lr * cfg.min_lr / cfg.lr, warmup=cfg.warmup,
                                weight_decay=cfg.weight_decay, name="rnn")
        r_val = lm_eval_loss(rnn, corpus.val, cfg.block_size, cfg.eval_batches, cfg.batch_size, seed)
        r_tr = lm_eval_loss(rnn, train, cfg.block_size, cfg.eval_batches, cfg.batch_size, seed)
        rnn_params = count_parameters(rnn)
        rows.append({"model": f"char-LSTM {cfg.rnn_layers}x{lstm.rnn.hidden_size} (embedding {cfg.rnn_embed}), "
                              f"same steps, batch and windows", "params": rnn_params, "iters": cfg.iters,
                     "train loss": r_tr, "val loss": r_val, "train wall time (s)": r_sec,
                     "train CPU time (s)": r_cpu})
        out = {"rnn_val_loss": r_val, "gpt_minus_rnn_val": val - r_val, "gpt_params": float(gpt_params),
               "rnn_params": float(rnn_params), "rnn_train_cpu_s": r_cpu}
    run.table(rows + [
               {"model": "unigram (no context)", "params": corpus.vocab_size, "iters": 0, "train loss": float("nan"),
                "val loss": uni, "train wall time (s)": 0.0, "train CPU time (s)": 0.0},
               {"model": "nanoGPT, same CPU config (README; a laptop)", "params": float("nan"), "iters": 2000,
                "train loss": float("nan"), "val loss": 1.88, "train wall time (s)": 180.0,
                "train CPU time (s)": float("nan")}],
              "Tiny Shakespeare, nats per character (nanoGPT's 90/10 split)")
    if cfg.sample_chars:
        start = corpus.encode("\n")[None]
        text = corpus.decode(model.generate(start, cfg.sample_chars, generator=run.generator("sample"))[0])
        (run.out / "sample.txt").write_text(text)
        run.table([{"sample (temperature 1)": text.replace("\n", " / ")[:400]}], "A sample")
    return {"val_loss": val, "train_loss": tr, "unigram_minus_val": uni - val, "causal_leak": leak,
            "train_time_s": seconds, "train_cpu_s": cpu_seconds, **out}
