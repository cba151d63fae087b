"""Module 7: point clouds. Pure-torch batched operations (:mod:`.ops`: farthest point sampling, kNN, ball query,
grouping), Chamfer distance, F-score and Sinkhorn EMD (:mod:`.losses`), augmentations (:mod:`.augment`),
PointNet with T-Nets (:mod:`.pointnet`), the order-invariance alternatives (:mod:`.set_functions`), PointNet++
(:mod:`.pointnet2`), DGCNN (:mod:`.dgcnn`), and point-cloud completion: a PoinTr-style geometry-aware transformer
(:mod:`.pointr`) with FoldingNet and PCN-style baselines (:mod:`.folding`). Data: MNIST digits as 2-D point sets
(:mod:`.mnist_points`), a procedural benchmark of composite 3-D objects with part labels and partial views
(:mod:`.shapes`), and loaders for ModelNet, ShapeNet-Part and PCN (:mod:`.loaders`).
Experiments live in :mod:`deepcourse.pointcloud.experiments` (imported by the registry, not here).
"""

from __future__ import annotations

from .dgcnn import DGCNN, DGCNNSeg, EdgeConv, edge_features
from .folding import PCN, Folding, FoldingNet, PCNEncoder
from .layers import SharedMLP, mlp_head, scaled
from .losses import (chamfer_distance, chamfer_l1, chamfer_l2, chamfer_terms, f_score, sinkhorn_emd,
                     transform_regulariser)
from .ops import (ball_query, check_cloud, farthest_point_sample, group, index_points, knn, nearest_neighbour,
                  square_distance)
from .pointnet import PointNet, PointNetSeg, TNet
from .pointnet2 import FeaturePropagation, PointNet2, PointNet2Seg, SetAbstraction
from .pointr import GeometryAwareBlock, PoinTr, QueryGenerator, completion_loss
from .set_functions import POOLINGS, SetClassifier, lexicographic_sort

__all__ = [
    "DGCNN", "DGCNNSeg", "EdgeConv", "edge_features",
    "PCN", "Folding", "FoldingNet", "PCNEncoder",
    "SharedMLP", "mlp_head", "scaled",
    "chamfer_distance", "chamfer_l1", "chamfer_l2", "chamfer_terms", "f_score", "sinkhorn_emd",
    "transform_regulariser",
    "ball_query", "check_cloud", "farthest_point_sample", "group", "index_points", "knn", "nearest_neighbour",
    "square_distance",
    "PointNet", "PointNetSeg", "TNet",
    "FeaturePropagation", "PointNet2", "PointNet2Seg", "SetAbstraction",
    "GeometryAwareBlock", "PoinTr", "QueryGenerator", "completion_loss",
    "POOLINGS", "SetClassifier", "lexicographic_sort",
]
