"""The benchmark models: tessera's whole test models (same weights), a larger SR-style conv net, and the
real pretrained ESRGAN models of the UpscalerJS npm packages (TF.js layers-models, see tfjs_convert.py).
"""

import sys
from pathlib import Path

import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "models"))

import whole_models  # noqa: E402
from common import Dims, Spec, randomize, seed_of  # noqa: E402
from make_models import make_input  # noqa: E402,F401 -- re-exported: the test models' seeded inputs
from onnx_export import export  # noqa: E402,F401 -- re-exported
from tfjs_convert import TfjsModule  # noqa: E402


def sr_conv32():
    """Six 3x3 convs, 32 channels wide, ReLU between: the body of a typical small SR network."""
    layers = [whole_models.conv(3, 32), nn.ReLU()]
    for _ in range(4):
        layers += [whole_models.conv(32, 32), nn.ReLU()]
    return nn.Sequential(*layers, whole_models.conv(32, 3))


SPECS = {s.name: s for s in whole_models.specs()}
SPECS["sr_conv32"] = Spec("sr_conv32", "model", Dims(16, 4096), 3, sr_conv32, in_range=(0.0, 1.0))

# esrgan-<variant>-x<scale>: the model.json that scripts/fetch-models.sh unpacks. tessera compiles it
# directly; the peers run its conversion. Pixel ranges as in docs/tfjs.md.
TFJS = {f"esrgan-{variant}-x{scale}": ROOT / ".cache" / "models" / f"esrgan-{variant}" / "models" / f"x{scale}" /
        "model.json" for variant in ("slim", "medium", "thick") for scale in (2, 3, 4, 8)}
for _name, _path in TFJS.items():
    SPECS[_name] = Spec(_name, "model", Dims(16, 4096), 3, lambda path=_path: TfjsModule(path),
                        in_range=(0.0, 1.0) if "thick" in _name else (0.0, 255.0))


def build_module(name):
    """The torch module in eval mode, seeded exactly as tests/models/make_models.py seeds it (a TF.js
    model keeps its trained weights)."""
    spec = SPECS[name]
    torch.manual_seed(seed_of(name))
    module = spec.build()
    if name not in TFJS:
        randomize(module)
    return module.eval()


def conv_flops(name, module, h, w):
    """Sum over Conv2d layers of 2*Cout*Cin/groups*kh*kw*Hout*Wout at input size h x w."""
    total = 0

    def count(conv, _inputs, output):
        nonlocal total
        kh, kw = conv.kernel_size
        total += 2 * conv.out_channels * conv.in_channels // conv.groups * kh * kw * output.shape[2] * output.shape[3]

    hooks = [m.register_forward_hook(count) for m in module.modules() if isinstance(m, nn.Conv2d)]
    with torch.no_grad():
        module(torch.zeros(1, SPECS[name].in_ch, h, w))
    for hook in hooks:
        hook.remove()
    return total

