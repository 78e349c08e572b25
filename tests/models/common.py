"""Shared definitions for the test-model generator: dims, case sizes, model specs, seeded init."""

import zlib
from dataclasses import dataclass
from typing import Callable, List, Optional, Tuple

import torch
from torch import nn

Size = Tuple[int, int]  # (H, W)


@dataclass(frozen=True)
class Dims:
    """Allowed range of the dynamic H and W of a model: lo..hi, both multiples of mult."""

    lo: int
    hi: int
    mult: int = 1

    def __post_init__(self):
        if not (0 < self.lo <= self.hi) or self.lo % self.mult or self.hi % self.mult:
            raise ValueError(f"bad dims {self}")

    def text(self, name: str) -> str:
        """The manifest form NAME=MIN:MAX[:MULTIPLE]."""
        suffix = f":{self.mult}" if self.mult > 1 else ""
        return f"{name}={self.lo}:{self.hi}{suffix}"

    def allows(self, v: int) -> bool:
        return self.lo <= v <= self.hi and v % self.mult == 0


@dataclass
class Spec:
    """One test model.

    build() returns a torch nn.Module (exported with torch.onnx.export), or, when handmade is True,
    a tuple (onnx.ModelProto, reference) where reference(np.ndarray) -> np.ndarray.
    torch_ref(module, x) optionally recomputes the output another way (checked against the module).
    """

    name: str
    kind: str  # "model" or "op"
    dims: Dims
    in_ch: int
    build: Callable
    tileable: bool = True
    opset: int = 13
    in_range: Tuple[float, float] = (-1.0, 1.0)
    sizes: Optional[List[Size]] = None
    handmade: bool = False
    torch_ref: Optional[Callable] = None

    def case_sizes(self) -> List[Size]:
        sizes = self.sizes if self.sizes is not None else default_sizes(self.dims)
        for h, w in sizes:
            if not (self.dims.allows(h) and self.dims.allows(w)):
                raise ValueError(f"{self.name}: case {h}x{w} outside dims {self.dims}")
        if len(sizes) < 4 or len(set(sizes)) != len(sizes):
            raise ValueError(f"{self.name}: need at least 4 distinct case sizes, got {sizes}")
        return sizes


class Fn(nn.Module):
    """A module whose forward is fn(self, x); keyword arguments become submodules/parameters."""

    def __init__(self, fn: Callable, **children):
        super().__init__()
        self.fn = fn
        for key, value in children.items():
            setattr(self, key, value)

    def forward(self, x):
        return self.fn(self, x)


def seed_of(name: str) -> int:
    return zlib.crc32(name.encode())


def _is_prime(n: int) -> bool:
    return n >= 2 and all(n % d for d in range(2, int(n ** 0.5) + 1))


def _pick(d: Dims, target: float) -> int:
    """An allowed value near target, preferring mult * prime (odd, 'awkward' sizes)."""
    candidates = [q * d.mult for q in range(d.lo // d.mult, d.hi // d.mult + 1)]
    return min(candidates, key=lambda v: (not _is_prime(v // d.mult), abs(v - target)))


def default_sizes(d: Dims) -> List[Size]:
    """min, max, two awkward non-square sizes, and the extreme non-square min x max."""
    span = d.hi - d.lo
    a, b, c = (_pick(d, d.lo + span * f) for f in (0.15, 0.4, 0.7))
    sizes = [(d.lo, d.lo), (d.hi, d.hi), (a, b), (c, a), (d.lo, d.hi)]
    unique = []
    for s in sizes:
        if s not in unique:
            unique.append(s)
    return unique


def randomize(module: nn.Module) -> None:
    """Non-trivial biases, PReLU slopes and BatchNorm statistics (torch RNG must be seeded).

    A module may define after_randomize(module) to adjust parameters afterwards.
    """
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)) and m.bias is not None:
                m.bias.uniform_(-0.5, 0.5)
            elif isinstance(m, nn.PReLU):
                m.weight.uniform_(0.05, 0.5)
            elif isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.5, 0.5)
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
        hook = getattr(module, "after_randomize", None)
        if hook is not None:
            hook(module)
