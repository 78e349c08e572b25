"""Shared fixtures: the test models exported at build time (BUILD/testdata), and a small conv net."""

import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch

import tessera

TESTDATA = Path(os.environ.get("TESSERA_TESTDATA_DIR", "build/testdata"))
BACKENDS = tessera.backends()[0]


@pytest.fixture(scope="session")
def manifest():
    return json.loads((TESTDATA / "manifest.json").read_text())


class SmallNet(torch.nn.Module):
    """Three 3x3 convs on one channel: the network of the seed's dynamic-shapes demo."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.body = torch.nn.Sequential(torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.ReLU(),
                                        torch.nn.Conv2d(8, 8, 3, padding=1), torch.nn.ReLU(),
                                        torch.nn.Conv2d(8, 1, 3, padding=1))

    def forward(self, x):
        return self.body(x)


@pytest.fixture(scope="session")
def small(tmp_path_factory):
    """SmallNet exported through tessera.export for 16..128 (height 4 × 4..32, as torch.export writes
    multiples), the net, and the file."""
    net = SmallNet().eval()
    h, w = tessera.Dim("height", min=4, max=32), tessera.Dim("width", min=16, max=128)
    path = tmp_path_factory.mktemp("small") / "small.tsr"
    module = tessera.export(net, (torch.randn(1, 1, 64, 64),), path, dynamic_shapes={"x": {2: 4 * h, 3: w}})
    return module, net, path


def random_input(shape, seed=0):
    return np.random.default_rng(seed).random(shape, dtype=np.float32)
