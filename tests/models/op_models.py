"""Single-op test models (kind "op") exported from PyTorch: one ONNX op (plus what torch adds)."""

import torch
import torch.nn.functional as F
from torch import nn

from common import Dims, Fn, Spec

SMALL = Dims(5, 64)
POSITIVE = (0.5, 1.5)  # for divisors
WIDE = (-4.0, 4.0)  # reaches the saturation of ReLU6 / Hardtanh / Hardsigmoid


def op(name, build, in_ch=3, **kw):
    kw.setdefault("dims", SMALL)
    return Spec("op_" + name, "op", in_ch=in_ch, build=build, **kw)


def fn(f):
    """A builder for a parameter-free module computing f(module, x)."""
    return lambda: Fn(f)


def channel_const(c, lo, hi):
    """A [1,C,1,1] parameter (becomes an initializer); torch RNG is seeded by the caller."""
    return nn.Parameter(torch.empty(1, c, 1, 1).uniform_(lo, hi))


def conv_specs():
    c = nn.Conv2d
    out = [
        op("conv_k3_p1", lambda: c(3, 5, 3, padding=1)),
        op("conv_k3_p0", lambda: c(3, 5, 3, padding=0)),
        op("conv_k5_p2", lambda: c(3, 5, 5, padding=2)),
        op("conv_k5_p1", lambda: c(3, 5, 5, padding=1)),
        op("conv_k1", lambda: c(3, 5, 1)),
        op("conv_k3x1", lambda: c(3, 5, (3, 1), padding=(1, 0))),
        op("conv_k3x5_asym", lambda: c(3, 5, (3, 5), stride=(2, 1), padding=(1, 0))),
        op("conv_s2_p1", lambda: c(3, 5, 3, stride=2, padding=1)),
        op("conv_s2_p0", lambda: c(3, 5, 3, stride=2)),
        op("conv_k2_s2", lambda: c(3, 5, 2, stride=2)),
        op("conv_dil2_p2", lambda: c(3, 5, 3, padding=2, dilation=2)),
        op("conv_dil2_p1", lambda: c(3, 5, 3, padding=1, dilation=2)),
        op("conv_groups2", lambda: c(4, 6, 3, padding=1, groups=2), in_ch=4),
        op("conv_depthwise", lambda: c(5, 5, 3, padding=1, groups=5), in_ch=5),
        op("conv_depthwise_x2", lambda: c(3, 6, 3, padding=1, groups=3)),
        op("conv_nobias", lambda: c(3, 5, 3, padding=1, bias=False)),
        op("conv_s2_p1_opset17", lambda: c(3, 5, 3, stride=2, padding=1), opset=17),
    ]
    # padding="same" (aten::_convolution_mode) cannot be exported by torch 1.13 at any opset
    # ("Exporting the operator 'aten::_convolution_mode' to ONNX opset version 13 is not
    # supported"). For odd kernels it equals padding=k//2 (covered above); for an even kernel
    # torch pads total k-1, left (k-1)//2 and the rest right/bottom. Emulated with F.pad + conv,
    # checked against F.conv2d(padding="same") in eager mode.
    out.append(op(
        "conv_same_k4x2_emulated",
        lambda: Fn(lambda m, x: m.conv(F.pad(x, (0, 1, 1, 2))), conv=c(3, 5, (4, 2))),
        torch_ref=lambda m, x: F.conv2d(x, m.conv.weight, m.conv.bias, padding="same")))
    return out


def conv_transpose_specs():
    t = nn.ConvTranspose2d
    return [
        op("convT_k4_s2_p1", lambda: t(3, 5, 4, stride=2, padding=1)),
        op("convT_k3_s2_p1_op1", lambda: t(3, 5, 3, stride=2, padding=1, output_padding=1)),
        op("convT_k2_s2", lambda: t(3, 5, 2, stride=2)),
        op("convT_k3_s1_p0", lambda: t(3, 5, 3)),
        op("convT_groups2", lambda: t(4, 6, 4, stride=2, padding=1, groups=2), in_ch=4),
        op("convT_dil2", lambda: t(3, 5, 3, stride=2, padding=1, dilation=2)),
        op("convT_nobias", lambda: t(3, 5, 3, stride=1, padding=1, bias=False)),
        op("convT_k4_s2_p1_opset17", lambda: t(3, 5, 4, stride=2, padding=1), opset=17),
    ]


def activation_specs():
    return [
        op("relu", nn.ReLU),
        op("leakyrelu", lambda: nn.LeakyReLU(0.2)),
        op("prelu_single", nn.PReLU),
        op("prelu_channel", lambda: nn.PReLU(5), in_ch=5),
        op("clamp", fn(lambda m, x: torch.clamp(x, -0.5, 0.7))),
        op("clamp_min_only", fn(lambda m, x: torch.clamp(x, min=-0.3))),
        op("relu6", nn.ReLU6, in_range=WIDE),
        op("hardtanh", nn.Hardtanh, in_range=WIDE),
        op("sigmoid", nn.Sigmoid, in_range=WIDE),
        op("tanh", nn.Tanh, in_range=WIDE),
        op("hardsigmoid", nn.Hardsigmoid, in_range=WIDE),
        op("clamp_opset17", fn(lambda m, x: torch.clamp(x, -0.5, 0.7)), opset=17),
        op("hardsigmoid_opset17", nn.Hardsigmoid, in_range=WIDE, opset=17),
        op("prelu_channel_opset17", lambda: nn.PReLU(5), in_ch=5, opset=17),
    ]


def binary_specs():
    mean = lambda x: x.mean((2, 3), keepdim=True)  # noqa: E731
    p = lambda lo=-1.0, hi=1.0: channel_const(3, lo, hi)  # noqa: E731
    out = [
        # per-channel [1,C,1,1] constant (initializer)
        op("add_channel_const", lambda: Fn(lambda m, x: x + m.p, p=p())),
        op("sub_channel_const", lambda: Fn(lambda m, x: x - m.p, p=p())),
        op("sub_channel_const_first", lambda: Fn(lambda m, x: m.p - x, p=p())),
        op("mul_channel_const", lambda: Fn(lambda m, x: x * m.p, p=p())),
        op("div_channel_const", lambda: Fn(lambda m, x: x / m.p, p=p(0.5, 1.5))),
        # scalar constant
        op("add_scalar", fn(lambda m, x: x + 0.5)),
        op("sub_scalar", fn(lambda m, x: x - 0.25)),
        op("sub_scalar_first", fn(lambda m, x: 1.0 - x)),
        op("mul_scalar", fn(lambda m, x: x * 2.5)),
        op("div_scalar", fn(lambda m, x: x / 3.0)),
        op("div_scalar_first", fn(lambda m, x: 2.0 / x), in_range=POSITIVE),
        # two runtime tensors of the same shape
        op("add_tensors", fn(lambda m, x: x + torch.tanh(x))),
        op("sub_tensors", fn(lambda m, x: torch.tanh(x) - x)),
        op("mul_tensors", fn(lambda m, x: x * torch.sigmoid(x))),
        op("div_tensors", fn(lambda m, x: x / torch.sigmoid(x))),
        # a computed [N,C,1,1] tensor (spatial reduction: not tileable)
        op("add_mean", fn(lambda m, x: x + mean(x)), tileable=False),
        op("sub_mean_first", fn(lambda m, x: mean(x) - x), tileable=False),
        op("mul_mean", fn(lambda m, x: x * mean(x)), tileable=False),
        op("div_mean", fn(lambda m, x: x / mean(x)), in_range=POSITIVE, tileable=False),
        op("mul_channel_const_opset17", lambda: Fn(lambda m, x: x * m.p, p=p()), opset=17),
    ]
    return out


def concat_specs():
    return [
        op("concat_convs", lambda: Fn(lambda m, x: torch.cat([m.a(x), m.b(x)], dim=1),
                                      a=nn.Conv2d(3, 2, 3, padding=1), b=nn.Conv2d(3, 3, 1))),
        op("concat_input_conv", lambda: Fn(lambda m, x: torch.cat([x, F.relu(m.a(x))], dim=1),
                                           a=nn.Conv2d(3, 4, 3, padding=1))),
    ]


def depth_to_space_specs():
    # DCR mode cannot be produced by torch's exporter: see handmade_models.py.
    return [
        op("pixelshuffle2", lambda: nn.PixelShuffle(2), in_ch=12),
        op("pixelshuffle3", lambda: nn.PixelShuffle(3), in_ch=18),
        op("pixelshuffle2_opset17", lambda: nn.PixelShuffle(2), in_ch=8, opset=17),
    ]


def resize_specs():
    def interp(scale, mode, align_corners=None):
        return fn(lambda m, x: F.interpolate(x, scale_factor=scale, mode=mode,
                                             align_corners=align_corners))

    return [
        op("resize_nearest2", interp(2, "nearest")),
        op("resize_nearest3", interp(3, "nearest")),
        op("resize_bilinear2", interp(2, "bilinear", False)),
        op("resize_bilinear3", interp(3, "bilinear", False)),
        op("resize_bilinear2_align_corners", interp(2, "bilinear", True), tileable=False),
        op("upsample_nearest2", lambda: nn.Upsample(scale_factor=2, mode="nearest")),
        # opset 9 exports the (deprecated) Upsample op. Only nearest: at opset 9 torch warns that
        # Upsample linear does not match PyTorch's interpolation, so a bilinear one would not match.
        op("upsample_nearest2_opset9", interp(2, "nearest"), opset=9),
        op("resize_bilinear2_opset17", interp(2, "bilinear", False), opset=17),
        op("resize_nearest2_opset17", interp(2, "nearest"), opset=17),
    ]


def pool_specs():
    mp, ap = nn.MaxPool2d, nn.AvgPool2d
    # Not included: ceil_mode with padding where PyTorch drops a last window that would start in
    # the right padding (e.g. MaxPool2d(3, 3, padding=1, ceil_mode=True) at H=5: torch gives 2,
    # the ONNX output-shape formula gives 3), so an ONNX-conformant engine cannot match torch.
    return [
        op("maxpool_k2_s2", lambda: mp(2, 2)),
        op("maxpool_k3_s1_p1", lambda: mp(3, 1, padding=1)),
        op("maxpool_k3_s2_ceil", lambda: mp(3, 2, ceil_mode=True)),
        op("maxpool_k3_s2_p1", lambda: mp(3, 2, padding=1)),
        op("maxpool_k3_dil2", lambda: mp(3, 1, padding=1, dilation=2)),
        op("avgpool_k2_s2", lambda: ap(2, 2)),
        op("avgpool_k3_s1_p1", lambda: ap(3, 1, padding=1)),
        op("avgpool_k3_s1_p1_exclude_pad", lambda: ap(3, 1, padding=1, count_include_pad=False)),
        op("avgpool_k2_s2_ceil", lambda: ap(2, 2, ceil_mode=True)),
        op("avgpool_k3_s2_ceil", lambda: ap(3, 2, ceil_mode=True)),
        op("maxpool_k3_s2_ceil_opset17", lambda: mp(3, 2, ceil_mode=True), opset=17),
        op("avgpool_k3_s1_p1_opset17", lambda: ap(3, 1, padding=1), opset=17),
    ]


def _equal_bn_stats(module):
    """weight == running_var and bias == running_mean: torch dedups equal initializers."""
    with torch.no_grad():
        module.bn.running_var.copy_(module.bn.weight)
        module.bn.running_mean.copy_(module.bn.bias)


def batchnorm_specs():
    def dedup():
        m = Fn(lambda m, x: m.bn(x), bn=nn.BatchNorm2d(5))
        m.after_randomize = _equal_bn_stats
        return m

    return [
        op("batchnorm_after_conv", lambda: nn.Sequential(nn.Conv2d(3, 5, 3, padding=1),
                                                         nn.BatchNorm2d(5))),
        op("batchnorm", lambda: nn.BatchNorm2d(5), in_ch=5),
        op("batchnorm_opset17", lambda: nn.BatchNorm2d(5), in_ch=5, opset=17),
        op("batchnorm_dedup_init_opset17", dedup, in_ch=5, opset=17),
    ]


def pad_specs():
    # F.pad order: (left, right, top, bottom). Reflect pads must stay below the smallest size (5).
    return [
        op("pad_constant", fn(lambda m, x: F.pad(x, (1, 2, 3, 0), value=0.5))),
        op("pad_zero", lambda: nn.ZeroPad2d((2, 1, 0, 1))),
        op("pad_reflect", fn(lambda m, x: F.pad(x, (2, 1, 0, 3), mode="reflect"))),
        op("pad_replicate", fn(lambda m, x: F.pad(x, (3, 0, 1, 2), mode="replicate"))),
        op("pad_reflect_opset17", fn(lambda m, x: F.pad(x, (1, 2, 3, 0), mode="reflect")),
           opset=17),
        op("pad_constant_opset17", fn(lambda m, x: F.pad(x, (1, 2, 3, 0), value=0.5)), opset=17),
    ]


def reduce_specs():
    return [
        op("global_avgpool", lambda: nn.AdaptiveAvgPool2d(1), tileable=False),
        op("reduce_mean", fn(lambda m, x: x.mean(dim=(2, 3), keepdim=True)), tileable=False),
        op("reduce_mean_opset17", fn(lambda m, x: x.mean(dim=(2, 3), keepdim=True)),
           tileable=False, opset=17),
    ]


def specs():
    return (conv_specs() + conv_transpose_specs() + activation_specs() + binary_specs()
            + concat_specs() + depth_to_space_specs() + resize_specs() + pool_specs()
            + batchnorm_specs() + pad_specs() + reduce_specs())
