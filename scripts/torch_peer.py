#!/usr/bin/env python3
"""A PyTorch peer of margin-bench: one run of a config, trained again in PyTorch, on CPU or CUDA.

    node --import tsx scripts/peer-data.ts configs/smoke.yaml --out /tmp/peer/data.json
    margin-bench run configs/smoke.yaml --save-weights --out /tmp/peer/runs
    python3 scripts/torch_peer.py --data /tmp/peer/data.json --run /tmp/peer/runs/relu_adam_b0.9_s0.json \\
        --csv /tmp/peer/relu_adam.csv                 # float64 on the CPU: the f64 engine's trajectory
    python3 scripts/torch_peer.py --data /tmp/peer/data.json --init W.json --optimizer muon --beta 0.9 \\
        --activation relu --device cuda --dtype float32 --steps 50 --no-log     # time a step on a GPU

Same data (the exported training matrix), same initial weights (the run's saved ones), same
learning-rate schedule and the same six direction rules as margin-bench (docs/science.md §3-§7,
§11.1-§11.3), so that margin-bench's time per step can be quoted as a ratio to PyTorch on the same
device (`npm run bench -- --gpu`) and the trajectories can be compared (test/oracle/torchPeer.test.ts).

What it does the way the definitions say, and where it differs from margin-bench on purpose:
- θ_{t+1} = θ_t − η_t D(m_t), m_t = β m_{t−1} + (1 − β) g_t, m_{−1} = 0; η_t = η_0/(t + 1)^a with
  η_0 = lr.rel × the optimizer's own norm of θ_0 (or lr.eta0): ℓ2 (ngd), ℓ∞ (signum, adam),
  spectral (muon), N_ρ/ρ (the hybrids; ρ = lr.hybrid_ratio).
- ngd: m/‖m‖₂ over all layers; signum: sign(m), sign(0) = 0; adam: m̂/(√v̂ + ε), β1 = β, β2 =
  adam_beta2, bias corrections at k = t + 1, 0 where v = 0 (a coordinate never given a non-zero
  gradient); muon: per layer U Vᵀ from torch.linalg.svd, singular values ≤ 1e-10 σ_max dropped;
  hybrids: U Vᵀ on the Muon layers (train.muon_layers, by default all but the output layer),
  ρ × sign / Adam on the others.
- The gradient comes from autograd at its true scale (log_softmax / softplus losses), and the
  buffers are plain tensors: no log-scale bookkeeping (docs/science.md §4.2), so losses far below
  1e-300 (float64) or 1e-38 (float32) are out of its reach; margin-bench's own engines keep them.
- W_1 always trains itself (margin-bench may train it in the data's span, docs/science.md §6.4:
  the same run in exact arithmetic).
- Not supported (an error says so): lr.schedule loss_based, train.polar newton_schulz, composed
  optimizers (docs/science.md §12).

Several --run files train one after another in one process (PyTorch's import is the slow part).
Output: with --csv (one run) or --out DIR (DIR/<run>.csv), one row per logged step (every step, or
--at's list) with step, lr, loss, log10_loss, train_acc, qmin and the four normalized margins
(docs/science.md §5, §8); on stdout one JSON line per run: device, dtype, versions, η_0, steps made,
and ms_per_step, the median wall time of a training step that logs nothing (forward, backward,
optimizer step, update; synchronised on CUDA).
"""

import argparse
import json
import math
import os
import sys
import time

PRESETS = ('ngd', 'signum', 'adam', 'muon', 'muon_signum', 'muon_adam')
FAMILY = {'ngd': 'l2', 'signum': 'linf', 'adam': 'linf', 'muon': 'spectral', 'muon_signum': 'hybrid', 'muon_adam': 'hybrid'}
PEER_DATA_FORMAT = 'margin-bench peer data 1'
# A singular value at or below this fraction of the largest counts as zero (docs/science.md §6.2).
POLAR_CUTOFF = 1e-10


class PeerError(Exception):
    """Bad input: a file, a flag or a setting the peer cannot follow. Exit 2 with one line."""


def read_json(path, what):
    try:
        with open(path, encoding='utf8') as f:
            return json.load(f)
    except FileNotFoundError:
        raise PeerError(f'{what}: {path}: file not found')
    except json.JSONDecodeError as e:
        raise PeerError(f'{what}: {path}: not JSON ({e})')


def read_peer_data(path):
    meta = read_json(path, '--data')
    if meta.get('format') != PEER_DATA_FORMAT:
        raise PeerError(f'--data: {path}: not written by scripts/peer-data.ts (format {meta.get("format")!r})')
    return meta


def load_data(path, torch, dtype, device):
    """The exported training set: X [n, d], the labels (class index, or ±1 for the parity task)."""
    meta = read_peer_data(path)
    import numpy as np
    x_path = os.path.join(os.path.dirname(path), meta['x'])
    try:
        x = np.fromfile(x_path, dtype='<f8')
    except FileNotFoundError:
        raise PeerError(f'--data: {x_path}: file not found')
    n, d = meta['n'], meta['d']
    if x.size != n * d:
        raise PeerError(f'--data: {x_path}: {x.size} values, expected n × d = {n} × {d}')
    X = torch.from_numpy(x.reshape(n, d)).to(device=device, dtype=dtype)
    y = torch.tensor(meta['y'], device=device, dtype=torch.long)
    return meta, X, y


def load_init(path, torch, dtype, device, shapes):
    layers = read_json(path, '--init').get('layers')
    if not isinstance(layers, list) or len(layers) != len(shapes):
        raise PeerError(f'--init: {path}: expected {{"layers": [W_1, …, W_{len(shapes)}]}}')
    out = []
    for l, (w, shape) in enumerate(zip(layers, shapes)):
        t = torch.tensor(w, dtype=torch.float64)
        if tuple(t.shape) != shape:
            raise PeerError(f'--init: {path}: layer {l + 1} has shape {list(t.shape)}, expected {list(shape)}')
        out.append(t.to(device=device, dtype=dtype))
    return out


def homogeneity_degree(activation, depth):
    """docs/science.md §3: D = L for ReLU, 2^L − 1 for squared ReLU; 1 for the linear model."""
    if depth == 1:
        return 1
    return depth if activation == 'relu' else 2 ** depth - 1


def muon_layers(setting, depth):
    """docs/science.md §5: train.muon_layers, by default every layer but the output layer (depth 1: the one layer)."""
    if setting is None:
        return set(range(depth - 1)) if depth > 1 else {0}
    return set(setting)


def forward(params, X, activation, torch):
    """f(θ; X) [n, C] = W_L σ(… σ(W_1 Xᵀ)), no biases (docs/science.md §3)."""
    h = X
    for l, w in enumerate(params):
        h = h @ w.T
        if l < len(params) - 1:
            h = torch.relu(h)
            if activation == 'sqrelu':
                h = h * h
    return h


def mean_loss(logits, y, binary, torch):
    """docs/science.md §4: mean softmax cross-entropy, or mean logistic loss log(1 + e^{−y f})."""
    if binary:
        return torch.nn.functional.softplus(-y.to(logits.dtype) * logits[:, 0]).mean()
    return torch.nn.functional.cross_entropy(logits, y)


def sample_margins(logits, y, binary, torch):
    """docs/science.md §5: q_i = f_{i,y_i} − max_{j≠y_i} f_ij, or y_i f(x_i) for the parity task."""
    if binary:
        return y.to(logits.dtype) * logits[:, 0]
    own = logits.gather(1, y[:, None])[:, 0]
    others = logits.scatter(1, y[:, None], -math.inf)
    return own - others.max(dim=1).values


def norms(params, is_muon, rho, torch):
    """The four norms of docs/science.md §5 (hybrid as N_ρ of §11.1)."""
    smax = [torch.linalg.matrix_norm(w, ord=2).item() for w in params]
    amax = [w.abs().max().item() for w in params]
    return {
        'l2': math.sqrt(sum((w * w).sum().item() for w in params)),
        'linf': max(amax),
        'spectral': max(smax),
        'hybrid': max(max([rho * s for l, s in enumerate(smax) if l in is_muon], default=0.0),
                      max([a for l, a in enumerate(amax) if l not in is_muon], default=0.0)),
    }


def polar(m, torch):
    """docs/science.md §6.2: U Vᵀ of a thin SVD, singular values ≤ 1e-10 σ_max counted as zero."""
    U, S, Vh = torch.linalg.svd(m, full_matrices=False)
    if S.numel() == 0 or S[0] == 0:
        return torch.zeros_like(m)
    keep = S > POLAR_CUTOFF * S[0]
    return U[:, keep] @ Vh[keep]


class Peer:
    """The optimizer state of one run and its update rule (docs/science.md §6)."""

    def __init__(self, optimizer, beta, beta2, eps, rho, is_muon, params, torch):
        self.torch = torch
        self.optimizer, self.beta, self.beta2, self.eps, self.rho = optimizer, beta, beta2, eps, rho
        self.is_muon = is_muon
        self.m = [torch.zeros_like(w) for w in params]
        self.v = [torch.zeros_like(w) for w in params] if 'adam' in optimizer else None
        self.k = 0

    def rule(self, l):
        """The direction rule of layer l: 'l2', 'sign', 'adam' or 'polar'."""
        o = self.optimizer
        if o == 'ngd':
            return 'l2'
        if o == 'muon' or (o in ('muon_signum', 'muon_adam') and l in self.is_muon):
            return 'polar'
        return 'sign' if o in ('signum', 'muon_signum') else 'adam'

    def direction(self, grads):
        torch = self.torch
        self.k += 1
        b1 = self.beta
        for m, g in zip(self.m, grads):
            m.mul_(b1).add_(g, alpha=1 - b1)
        if self.v is not None:
            for v, g in zip(self.v, grads):
                v.mul_(self.beta2).addcmul_(g, g, value=1 - self.beta2)
        hybrid = self.optimizer in ('muon_signum', 'muon_adam')
        out = []
        if self.optimizer == 'ngd':
            # on the device, without reading ‖m‖₂ back (m = 0 gives D = 0)
            total = torch.sqrt(sum((m * m).sum() for m in self.m))
            scale = torch.where(total > 0, 1 / torch.where(total > 0, total, torch.ones_like(total)), torch.zeros_like(total))
            return [m * scale for m in self.m]
        for l, m in enumerate(self.m):
            rule = self.rule(l)
            if rule == 'polar':
                out.append(polar(m, torch))
                continue
            if rule == 'sign':
                step = torch.sign(m)
            else:
                m_hat = m / (1 - b1 ** self.k)
                root_v_hat = torch.sqrt(self.v[l] / (1 - self.beta2 ** self.k))
                denom = root_v_hat + self.eps
                step = torch.where(denom > 0, m_hat / torch.where(denom > 0, denom, torch.ones_like(denom)), torch.zeros_like(m))
            out.append(self.rho * step if hybrid else step)
        return out


CSV_COLUMNS = ['step', 'lr', 'loss', 'log10_loss', 'train_acc', 'qmin', 'margin_l2', 'margin_linf', 'margin_spectral', 'margin_hybrid']


def train_run(torch, cfg, meta, X, y, params, spec, steps, logged, device):
    """One run (docs/science.md §6-§7): the logged rows and the wall time of each unlogged step."""
    optimizer, beta, activation = spec['optimizer'], spec['beta'], spec['activation']
    train, lr, depth = cfg['train'], cfg['train']['lr'], cfg['model']['depth']
    is_muon = muon_layers(train['muon_layers'], depth)
    rho_cfg = lr['hybrid_ratio']
    rho = rho_cfg if optimizer in ('muon_signum', 'muon_adam') else 1.0
    degree = homogeneity_degree(activation, depth)
    binary = meta['binary']

    # η_0 (docs/science.md §7, §11.1): rel × the optimizer's own norm of θ_0.
    n0 = norms(params, is_muon, rho_cfg, torch)
    family = FAMILY[optimizer]
    own_norm_init = n0[family] / rho_cfg if family == 'hybrid' else n0[family]
    eta0 = lr['eta0'] if lr['eta0'] is not None else lr['rel'] * own_norm_init
    target = train.get('target_log10_loss')

    peer = Peer(optimizer, beta, train['adam_beta2'], train['adam_eps'], rho, is_muon, params, torch)
    for w in params:
        w.requires_grad_(True)
    rows, step_s = [], []
    sync = torch.cuda.synchronize if device.type == 'cuda' else (lambda: None)
    t = 0
    while True:
        log_now = logged(t) or t == steps
        sync()
        started = time.perf_counter()
        logits = forward(params, X, activation, torch)
        loss = mean_loss(logits, y, binary, torch)
        eta = eta0 / (t + 1) ** lr['decay']
        # (the loss is read back only at log points, or every step where a target loss can end the run)
        stop = t == steps or (target is not None and 0 < loss.item() <= 10 ** target)
        if log_now or stop:
            with torch.no_grad():
                q = sample_margins(logits.detach(), y, binary, torch)
                nt = norms(params, is_muon, rho_cfg, torch)
                qmin, lv = q.min().item(), loss.item()
                rows.append({
                    'step': t, 'lr': eta, 'loss': lv,
                    'log10_loss': math.log10(lv) if lv > 0 else -math.inf,
                    'train_acc': (q > 0).to(torch.float64).mean().item(), 'qmin': qmin,
                    **{f'margin_{k}': qmin / nt[k] ** degree for k in ('l2', 'linf', 'spectral', 'hybrid')},
                })
        if stop:
            break
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for w, dw in zip(params, peer.direction(grads)):
                w.sub_(dw, alpha=eta)
        sync()
        if not log_now and t > 0:  # step 0 warms up kernels and allocators
            step_s.append(time.perf_counter() - started)
        t += 1
        if not math.isfinite(eta) or not all(torch.isfinite(w).all() for w in params):
            print(f'torch_peer: non-finite weights after step {t}', file=sys.stderr)
            break
    step_s.sort()
    return rows, {
        'eta0': eta0, 'own_norm_init': own_norm_init, 'steps_completed': t,
        'ms_per_step': 1000 * step_s[len(step_s) // 2] if step_s else None,
        'ms_per_step_mean': 1000 * sum(step_s) / len(step_s) if step_s else None, 'timed_steps': len(step_s),
    }


def write_csv(path, rows):
    tmp = f'{path}.tmp-{os.getpid()}'
    with open(tmp, 'w', encoding='utf8') as f:
        f.write(','.join(CSV_COLUMNS) + '\n')
        for r in rows:
            f.write(','.join(str(r[c]) if c == 'step' else repr(float(r[c])) for c in CSV_COLUMNS) + '\n')
    os.replace(tmp, path)


def run_specs(args):
    """The runs to train: each --run summary (optimizer, β, activation, its saved initial weights), or the one of the flags."""
    specs = []
    for path in args.run or []:
        run = read_json(path, '--run').get('run') or {}
        init = path[:-len('.json')] + '.init.weights.json'
        if not os.path.exists(init):
            raise PeerError(f'--run: {init}: file not found (run margin-bench with --save-weights)')
        specs.append({'name': os.path.basename(path)[:-len('.json')], 'init': init, 'optimizer': run.get('optimizer'),
                      'beta': run.get('beta'), 'activation': run.get('activation')})
    if not specs:
        missing = [f for f, v in (('--init', args.init), ('--optimizer', args.optimizer), ('--beta', args.beta), ('--activation', args.activation)) if v is None]
        if missing:
            raise PeerError(f'{", ".join(missing)}: needed (or --run SUMMARY.json)')
        specs.append({'name': f'{args.activation}_{args.optimizer}_b{args.beta:g}', 'init': args.init,
                      'optimizer': args.optimizer, 'beta': args.beta, 'activation': args.activation})
    for sp in specs:
        if sp['optimizer'] not in PRESETS:
            raise PeerError(f'{sp["name"]}: optimizer {sp["optimizer"]}: the peer knows the six presets ({", ".join(PRESETS)}) only')
    return specs


def main(argv):
    ap = argparse.ArgumentParser(description='Train margin-bench runs again in PyTorch (see the header).')
    ap.add_argument('--data', required=True, help='FILE.json written by scripts/peer-data.ts (the resolved config and X, y)')
    ap.add_argument('--run', nargs='+', help="runs' summaries <run>.json (from `margin-bench run --save-weights`): optimizer, β, activation and <run>.init.weights.json of each")
    ap.add_argument('--init', help='initial weights {"layers": [...]} (instead of --run, with --optimizer, --beta, --activation)')
    ap.add_argument('--optimizer', choices=PRESETS)
    ap.add_argument('--beta', type=float)
    ap.add_argument('--activation', choices=('relu', 'sqrelu'))
    ap.add_argument('--steps', type=int, help='updates per run (default: train.steps of the config)')
    ap.add_argument('--device', default='cpu', help='cpu, cuda, cuda:1, … (default cpu)')
    ap.add_argument('--dtype', choices=('float64', 'float32'), default='float64')
    ap.add_argument('--threads', type=int, help="CPU threads for torch (default: torch's own)")
    ap.add_argument('--csv', help='write the logged rows of the one run here')
    ap.add_argument('--out', help='write the logged rows of each run to OUT/<run>.csv')
    ap.add_argument('--at', help='log only these steps (comma-separated; default: every step)')
    ap.add_argument('--no-log', action='store_true', help='log nothing but the last step (timing)')
    args = ap.parse_args(argv)

    # Bad input is reported before PyTorch's slow import.
    specs = run_specs(args)
    if args.csv and len(specs) > 1:
        raise PeerError('--csv: one run only; use --out DIR for several')
    cfg = read_peer_data(args.data)['config']
    if cfg['train']['lr']['schedule'] != 'polynomial':
        raise PeerError(f'train.lr.schedule {cfg["train"]["lr"]["schedule"]}: the peer follows the polynomial schedule only')
    if cfg['train']['polar'] == 'newton_schulz':
        raise PeerError('train.polar newton_schulz: the peer takes the exact polar factor only')
    try:
        import torch
    except ImportError as e:
        print(f'torch_peer: PyTorch is not installed for {sys.executable} ({e}): apt-get install python3-torch, or pip install torch', file=sys.stderr)
        return 2
    if args.device.startswith('cuda') and not torch.cuda.is_available():
        raise PeerError(f'--device {args.device}: torch {torch.__version__} sees no CUDA device')
    device = torch.device(args.device)
    dtype = torch.float64 if args.dtype == 'float64' else torch.float32
    if args.threads:
        torch.set_num_threads(args.threads)

    meta, X, y = load_data(args.data, torch, dtype, device)
    depth, width = cfg['model']['depth'], cfg['model']['width']
    dims = [meta['d']] + [width] * (depth - 1) + [meta['num_classes']]
    shapes = [(dims[l + 1], dims[l]) for l in range(depth)]
    steps = cfg['train']['steps'] if args.steps is None else args.steps
    at = None if args.at is None else {int(s) for s in args.at.split(',') if s}
    logged = (lambda t: False) if args.no_log else (lambda t: at is None or t in at)
    if args.out:
        os.makedirs(args.out, exist_ok=True)

    for sp in specs:
        params = load_init(sp['init'], torch, dtype, device, shapes)
        rows, info = train_run(torch, cfg, meta, X, y, params, sp, steps, logged, device)
        if args.csv:
            write_csv(args.csv, rows)
        if args.out:
            write_csv(os.path.join(args.out, sp['name'] + '.csv'), rows)
        print(json.dumps({
            'run': sp['name'], 'optimizer': sp['optimizer'], 'beta': sp['beta'], 'activation': sp['activation'],
            'device': str(device), 'device_name': torch.cuda.get_device_name(device) if device.type == 'cuda' else 'cpu',
            'dtype': args.dtype, 'torch': torch.__version__, 'threads': torch.get_num_threads(), **info,
        }), flush=True)
    return 0


if __name__ == '__main__':
    try:
        sys.exit(main(sys.argv[1:]))
    except PeerError as e:
        print(f'torch_peer: {e}', file=sys.stderr)
        sys.exit(2)
