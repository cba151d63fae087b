"""Module 7 experiments: PointNet on MNIST point sets, order invariance, robustness, part segmentation, completion."""
