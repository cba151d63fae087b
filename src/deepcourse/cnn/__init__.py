"""Module 1.1: advanced CNNs, ResNet and PreAct ResNet, WideResNet, DenseNet-BC, MobileNet v1/v2,
Squeeze-and-Excitation, U-Net, the residual image-to-image generator, and the small networks of the
lottery-ticket paper. Every model is registered in :mod:`deepcourse.core.models` (importing a model
module registers it). :class:`ConvNet` is the project's one small CNN. Augmentations live in
:mod:`deepcourse.data.transforms`; the ``cnn-cifar10`` experiment in :mod:`deepcourse.cnn.experiments`.
"""

from .densenet import DenseBlock, DenseLayer, DenseNet, Transition, densenet_bc
from .generator import ResnetBlock, ResnetGenerator
from .mobilenet import DepthwiseSeparable, InvertedResidual, MobileNetV1, MobileNetV2, mobilenet_v1, mobilenet_v2, se_mobilenet_v2
from .resnet import (BasicBlock, Bottleneck, PreActBlock, PreActBottleneck, ResNet, preact_resnet18, resnet18, resnet34,
                     resnet50, se_resnet18)
from .se import SqueezeExcitation
from .small import ConvNet, LeNet300100, conv2, conv4, conv6
from .unet import DoubleConv, MCDropout, UNet
from .wideresnet import WideBlock, WideResNet, wide_resnet

__all__ = [
    "DenseBlock", "DenseLayer", "DenseNet", "Transition", "densenet_bc",
    "ResnetBlock", "ResnetGenerator",
    "DepthwiseSeparable", "InvertedResidual", "MobileNetV1", "MobileNetV2", "mobilenet_v1", "mobilenet_v2", "se_mobilenet_v2",
    "BasicBlock", "Bottleneck", "PreActBlock", "PreActBottleneck", "ResNet", "preact_resnet18", "resnet18", "resnet34",
    "resnet50", "se_resnet18",
    "SqueezeExcitation",
    "ConvNet", "LeNet300100", "conv2", "conv4", "conv6",
    "DoubleConv", "MCDropout", "UNet",
    "WideBlock", "WideResNet", "wide_resnet",
]
