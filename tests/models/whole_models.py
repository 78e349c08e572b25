"""The whole test models (kind "model"): small but realistic conv image networks."""

import torch
import torch.nn.functional as F
from torch import nn

from common import Dims, Spec


def conv(cin, cout, k=3, **kw):
    """A conv with "same-size" padding for odd k unless padding is given."""
    kw.setdefault("padding", k // 2)
    return nn.Conv2d(cin, cout, k, **kw)


def tiny():
    return nn.Sequential(conv(1, 8), nn.ReLU(), conv(8, 8), nn.ReLU(), conv(8, 1))


def sr_pixelshuffle():
    return nn.Sequential(conv(3, 16), nn.ReLU(), conv(16, 12), nn.PixelShuffle(2))


class UNet(nn.Module):
    """Two stride-2 downsamplings, two nearest x2 upsamplings, concat skips, one BatchNorm."""

    def __init__(self):
        super().__init__()
        self.enc1 = conv(3, 8)
        self.down1 = conv(8, 16, stride=2)
        self.bn1 = nn.BatchNorm2d(16)
        self.down2 = conv(16, 32, stride=2)
        self.up2 = nn.Upsample(scale_factor=2, mode="nearest")
        self.dec2 = conv(32 + 16, 16)
        self.dec1 = conv(16 + 8, 8)
        self.head = conv(8, 3, k=1)

    def forward(self, x):
        e1 = F.relu(self.enc1(x))  # H
        e2 = F.relu(self.bn1(self.down1(e1)))  # H/2
        e3 = F.relu(self.down2(e2))  # H/4
        d2 = F.relu(self.dec2(torch.cat([self.up2(e3), e2], dim=1)))
        d1 = F.interpolate(d2, scale_factor=2, mode="nearest")
        d1 = F.relu(self.dec1(torch.cat([d1, e1], dim=1)))
        return self.head(d1)


def valid_convs():
    # H -> H-2 -> H-6 -> (H-8, W-6) -> stride-2 3x3: floor((H-11)/2)+1; at 16 the output is 3x2.
    return nn.Sequential(
        conv(3, 8, 3, padding=0), nn.ReLU(),
        conv(8, 8, 5, padding=0), nn.ReLU(),
        nn.Conv2d(8, 8, (3, 1), padding=0), nn.ReLU(),
        conv(8, 3, 3, padding=0, stride=2),
    )


class DwDilatedGrouped(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = conv(3, 16)
        self.act1 = nn.LeakyReLU(0.1)
        self.dw = conv(16, 16, groups=16)
        self.act2 = nn.PReLU(16)
        self.dil = conv(16, 16, padding=2, dilation=2)
        self.act3 = nn.LeakyReLU(0.2)
        self.grouped = conv(16, 16, groups=2)
        self.act4 = nn.PReLU()
        self.head = conv(16, 3, k=1)

    def forward(self, x):
        a = self.act1(self.stem(x))
        h = self.act2(self.dw(a))
        h = self.act3(self.dil(h))
        h = self.act4(self.grouped(h))
        return self.head(h + a)


class SEBlock(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = conv(3, 16)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = conv(16, 4, k=1)
        self.fc2 = conv(4, 16, k=1)
        self.head = conv(16, 3)

    def forward(self, x):
        h = F.relu(self.stem(x))
        s = torch.sigmoid(self.fc2(F.relu(self.fc1(self.pool(h)))))
        return self.head(h * s)


class DenseResidual(nn.Module):
    """ESRGAN's blocks in small: a dense block (nested concats into 3x3 convs, a skip scaled by
    0.2), a concat into a 1x1 conv plus a skip, and a concat of the blocks into a 1x1 conv."""

    def __init__(self):
        super().__init__()
        self.stem = conv(3, 8)
        self.grow1 = conv(8, 4)
        self.grow2 = conv(12, 4)
        self.fuse = conv(16, 8)
        self.narrow = conv(8, 2)
        self.mix = conv(10, 8, k=1)
        self.gather = conv(16, 8, k=1)
        self.head = conv(8, 3)

    def forward(self, x):
        s = self.stem(x)
        c1 = torch.cat([s, F.relu(self.grow1(s))], dim=1)
        c2 = torch.cat([c1, F.relu(self.grow2(c1))], dim=1)
        b1 = self.fuse(c2) * 0.2 + s
        b2 = self.mix(torch.cat([b1, F.relu(self.narrow(b1))], dim=1)) + b1
        g = self.gather(torch.cat([b1, b2], dim=1))
        return self.head(g + s)


class DenseBlock(nn.Module):
    """ESRGAN's dense block with 3x3 convs over ever wider concats of pieces that nothing else reads
    (its skip folds into the last conv): a channels-last backend writes every piece into the widest
    concat and sees the narrower ones as views of it."""

    def __init__(self):
        super().__init__()
        self.stem = conv(3, 8)
        self.grow1 = conv(8, 4)
        self.grow2 = conv(12, 4)
        self.grow3 = conv(16, 4)
        self.fuse = conv(20, 8)
        self.head = conv(8, 3)

    def forward(self, x):
        s = F.relu(self.stem(x))
        x1 = F.relu(self.grow1(s))
        x2 = F.leaky_relu(self.grow2(torch.cat([s, x1], dim=1)), 0.2)
        x3 = F.relu(self.grow3(torch.cat([s, x1, x2], dim=1)))
        return self.head(self.fuse(torch.cat([s, x1, x2, x3], dim=1)) * 0.2 + s)


class ResidualDenseNet(nn.Module):
    """ESRGAN-medium in small (a residual dense network): blocks of a 3x3 conv, a concat into a 1x1
    conv and a skip, and a global fusion, a 1x1 conv over the concat of every block's output, whose
    terms the compiler runs as soon as each block's output is no longer read by the next block."""

    def __init__(self):
        super().__init__()
        self.stem = conv(3, 8)
        self.grow = nn.ModuleList(conv(8, 8) for _ in range(4))
        self.local = nn.ModuleList(conv(16, 8, k=1) for _ in range(4))
        self.fusion = conv(32, 8, k=1)
        self.smooth = conv(8, 8)
        self.head = conv(8, 3)

    def forward(self, x):
        s = self.stem(x)
        h, blocks = s, []
        for grow, local in zip(self.grow, self.local):
            h = local(torch.cat([h, F.relu(grow(h))], dim=1)) + h
            blocks.append(h)
        return self.head(self.smooth(self.fusion(torch.cat(blocks, dim=1))) + s)


def specs():
    image = (0.0, 1.0)
    d = Dims(16, 200)
    return [
        Spec("tiny", "model", Dims(256, 1024), 1, tiny, in_range=image,
             sizes=[(1024, 1024), (512, 512), (288, 288), (272, 288), (256, 256), (257, 263),
                    (256, 1024)]),
        Spec("sr_pixelshuffle", "model", Dims(16, 256), 3, sr_pixelshuffle, in_range=image),
        Spec("unet", "model", Dims(32, 256, 4), 3, UNet, in_range=image),
        Spec("valid_convs", "model", d, 3, valid_convs, in_range=image),
        Spec("dw_dilated_grouped", "model", d, 3, DwDilatedGrouped, in_range=image),
        Spec("dense_residual", "model", d, 3, DenseResidual, in_range=image),
        Spec("dense_block", "model", d, 3, DenseBlock, in_range=image),
        Spec("residual_dense_net", "model", d, 3, ResidualDenseNet, in_range=image),
        Spec("se_block", "model", d, 3, SEBlock, in_range=image, tileable=False),
    ]
