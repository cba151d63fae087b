"""Knowledge distillation (Hinton et al. 2015; Beyer et al. 2022): a small student trained on labels, with
classic KD and with function matching, against the same student initialisations."""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

import numpy as np

from deepcourse.core import Reference, Run, at_least, count_parameters, experiment, param, train_classifier
from deepcourse.data import load_splits, stratified_subset
from deepcourse.data.transforms import cifar_augment
from deepcourse.viz import bar_chart

from ..distillation import NETWORKS, STUDENT_METHODS, build_network, train_student


@dataclass
class DistillConfig:
    dataset: str = param("fashion-mnist", choices=("mnist", "fashion-mnist", "cifar10-jpeg"))
    subset: int | None = param(3000, ge=100, help="training images of the teacher (None: the whole split)")
    student_subset: int | None = param(300, ge=10, help="the part of those the students see (None: all); "
                                       "a small part is Hinton et al.'s Sec. 5 setting")
    test_subset: int | None = param(2000, ge=100, help="test images (None: the whole test split)")
    teacher: str = param("mlp", choices=NETWORKS, help="cnn-fc: the cnn's stages flattened into a dropout FC layer")
    teacher_width: int = param(256, ge=1, help="MLP hidden width / CNN or ResNet base channels")
    teacher_dropout: float = param(0.2, ge=0, lt=1)
    teacher_epochs: int = param(8, ge=1)
    student: str = param("mlp", choices=NETWORKS)
    student_width: int = param(32, ge=1, help="MLP hidden width / CNN base channels / MobileNet alpha x 32")
    students: tuple[str, ...] = param(("labels", "kd", "fm"), choices=STUDENT_METHODS,
                                      help="hint = FitNets stage 1 then KD; online = deep mutual learning")
    student_seeds: int = param(2, ge=1, help="student initialisations per method (the same ones for every method)")
    epochs: int = param(30, ge=1, help="epochs of every student except function matching")
    fm_epochs: int = param(60, ge=1, help="epochs of the function-matching student ('patient')")
    hint_epochs: int = param(5, ge=1, help="FitNets stage 1 epochs")
    T: float = param(4.0, gt=0, help="temperature of classic KD (Hinton et al. 2015)")
    kd_alpha: float = param(0.9, ge=0, le=1, help="weight of the soft term in classic KD (0: labels only)")
    fm_T: float | None = param(None, gt=0, help="temperature of function matching (None: T)")
    fm_mixup: float = param(1.0, ge=0, help="mixup alpha of the function-matching views (0 = off)")
    augment: bool = param(False, help="random crops (and flips on CIFAR) for teacher and students")
    optimizer: str = param("sgd", choices=("adam", "sgd"), help="sgd: Nesterov momentum 0.9")
    lr: float = param(0.05, gt=0, help="cosine decay to 0")
    batch_size: int = param(50, ge=1)
    weight_decay: float = param(0.0, ge=0)


@experiment(
    name="distillation", module="9", title="Knowledge distillation: labels vs classic KD vs function matching",
    paper=Reference("Hinton et al. 2015 (Sec. 5: soft targets let a student learn from 3% of the data); "
                    "Beyer et al. 2022 (function matching beats label training when patient)", {}),
    quick=DistillConfig(),
    full=DistillConfig(subset=None, student_subset=None, test_subset=None, teacher="resnet18", teacher_width=64,
                       teacher_dropout=0.0, teacher_epochs=30, student="cnn", student_width=8, student_seeds=1,
                       epochs=30, fm_epochs=300, augment=True, optimizer="sgd", lr=0.05, batch_size=128,
                       weight_decay=5e-4),
    # Measured (quick, seeds 0-4, --threads 1 and 2, mean of 2 students): kd - labels 0.031-0.047, fm - labels
    # 0.043-0.076, teacher 0.816-0.844. kd_alpha=0 (no soft targets) makes the KD student the labels student
    # (same initialisation and batch order): kd - labels = 0.0000 exactly, and the floor fails.
    floor={"kd_minus_labels": at_least(0.015), "fm_minus_labels": at_least(0.015), "acc_teacher": at_least(0.78)},
    primary="acc_student_fm", threads=1,
)
def distillation(cfg: DistillConfig, run: Run) -> dict[str, float]:
    """Students trained on labels, with classic KD (``alpha T^2 KL + (1 - alpha) CE``) and with patient,
    consistent function matching (KL only on one mixup view shown to both networks) beat the labels-only
    student; each method's number is the mean over the same ``student_seeds`` initialisations.

    The quick preset follows Hinton et al.'s Sec. 5: the teacher learns from 3,000 images, the students
    from 300 of them, where soft targets regularise strongly. The full preset (ResNet-18 teacher, 300
    function-matching epochs on all of Fashion-MNIST) needs a GPU.

    Issue 17 check (KD below the labels-only student in an earlier CNN run, 79.9 % vs 82.0 %): the loss is
    Hinton et al.'s (both logits softened by T, the soft term times T^2, hard term at T = 1, teacher in eval mode
    without gradient). Measured on 6,000 Fashion-MNIST images, 8 epochs, one seed per row: a CNN-32 teacher at
    85.2 % is well calibrated (ECE 0.039, NLL-optimal temperature 0.75), so at T = 4 its targets are nearly flat
    (mean top probability 0.37); the label-trained students reach 80.8 % (CNN-8, 4,370 parameters) and 83.6 %
    (CNN-16, 16,794), close to the teacher, and KD at T = 4 gives 77.6 % and 80.5 %, at T = 2 79.5 % (CNN-8).
    Widening the student does not close the gap; a teacher that learned from the same images as the student has
    little to add. KD pays when the teacher knows more than the student's data shows (Hinton et al. Sec. 5), which
    is what the quick preset sets up (students see 300 of the teacher's 3,000 images: KD +3.1 to +4.7 points).

    Issue 17, second pass (pilots: seed 0, one student each, 2-core Intel Xeon shared, --threads 1). A teacher
    regularised in Hinton et al.'s way on the students' own 5,400 images (random 2-pixel crops, dropout, longer)
    stays weak: the all-convolutional CNN-32 (crops, dropout 0.3, 15 epochs) 84.0 % test / 86.4 % train, the
    flattened ``cnn-fc``-32 (dropout 0.5, 12 epochs) 84.9 %, (dropout 0.3, batch 32, 10 epochs) 85.1 % /
    86.6 % train, while a ``cnn-fc``-8 student (55,090 parameters) trained on the same labels with the same crops
    reaches 86.3 %: on 5,400 images the teacher cannot get clearly ahead of the student, and KD from it gives
    82.0 % (CNN-8 students: labels 82.1-82.9 %, KD at T = 4 77.7-79.0 %, train accuracy as low as test, i.e.
    the 4,370-parameter student underfits the soft targets). The CNN-8 student caps near 85 % train accuracy
    (global average pooling of features that see half the image), so it cannot follow a better teacher either.
    The CPU record therefore uses Hinton et al. Sec. 5's and Beyer et al.'s arrangement, a teacher that knows
    more than the students' data shows: ``cnn-fc``-32 (870,826 parameters, dropout 0.2, crops) learns from all
    54,000 training images for 3 epochs (90.9 %), the ``cnn-fc``-8 students from 6,000 of them, all with the same
    crops, batch 32, SGD-Nesterov lr 0.05 with cosine decay, weight decay 5e-4; labels and KD students train for
    ``epochs``, function matching (one crop + mixup view for both networks, KL at ``fm_T`` = 1, no labels) for
    ``fm_epochs``. On the teacher's own targets for those 6,000 images: mean top probability 0.92 at T = 1,
    0.63 at T = 4 (logit std 6.2, top-1 minus top-2 logit 7.5), so the T = 4 targets are not flat. Pilot
    (10 / 20 epochs): labels 88.4 %, KD 86.6 %, function matching 89.3 %.
    Recorded (results/distillation.json: 16 epochs for labels and KD, 36 for function matching, 3 student seeds,
    the full 10,000-image test set, 2,530 s): teacher 90.86 %; labels 88.87 +- 0.17 %, KD (T = 4, alpha = 0.9)
    88.06 +- 0.59 %, function matching 89.69 +- 0.08 % (every seed above every labels seed): +0.82 points,
    short of the +1 target, with the teacher only 2.0 points above the labels student. KD stays below labels
    (-0.81) because the KD students have not fitted their targets in 16 epochs: on their 6,000 training images
    they reach 87.8-89.9 % (labels students 92.3-93.0 %, teacher 91.3 %), and the seed that fitted the T = 4
    targets best (T^2 KL 0.14 against 0.26-0.27) is the one that matches the labels students (88.89 %) and
    agrees most with the teacher on the test set (95.0 % against 92.7-92.8 %); function matching at T = 1
    agrees with the teacher on 96.1-96.6 % of test images.
    CPU cuts against Beyer et al.: a 3-epoch teacher, 6,000 student images, tens of epochs instead of thousands,
    one shared teacher for all student seeds."""
    splits = load_splits(cfg.dataset, run, subset=cfg.subset, test_subset=cfg.test_subset)
    aug = (lambda x: cifar_augment(x, padding=x.shape[-1] // 14, flip=x.shape[1] == 3)) if cfg.augment else None
    prep = (lambda x, train: aug(x) if train else x) if aug else None
    train_kw = dict(lr=cfg.lr, batch_size=cfg.batch_size, optimizer=cfg.optimizer, weight_decay=cfg.weight_decay,
                    scheduler="cosine")
    t0 = time.perf_counter()
    run.manual_seed("teacher")
    teacher = build_network(cfg.teacher, splits.input_shape, splits.num_classes, cfg.teacher_width,
                               cfg.teacher_dropout)
    out = {"acc_teacher": train_classifier(teacher, splits, run, epochs=cfg.teacher_epochs, prep=prep,
                                           name="teacher", **train_kw)["test_acc"]}
    out["seconds_teacher"] = time.perf_counter() - t0
    if cfg.student_subset:
        keep = stratified_subset(splits.y_train, min(cfg.student_subset, len(splits.y_train)))
        splits = dataclasses.replace(splits, x_train=splits.x_train[keep], y_train=splits.y_train[keep])
    accs: dict[str, list[float]] = {m: [] for m in cfg.students}
    for method in cfg.students:
        t0 = time.perf_counter()
        for r in range(cfg.student_seeds):
            run.manual_seed(f"student-{r}")  # initialisation and batch order r, the same for every method
            student = build_network(cfg.student, splits.input_shape, splits.num_classes, cfg.student_width)
            run.manual_seed(f"peer-{r}")
            peer = build_network(cfg.teacher, splits.input_shape, splits.num_classes, cfg.teacher_width,
                                    cfg.teacher_dropout) if method == "online" else None
            T = cfg.fm_T if method == "fm" and cfg.fm_T is not None else cfg.T
            res = train_student(method, student, teacher, splits, run, T=T, alpha=cfg.kd_alpha,
                                mixup_alpha=cfg.fm_mixup, augment=aug, peer=peer, hint_epochs=cfg.hint_epochs,
                                epochs=cfg.fm_epochs if method == "fm" else cfg.epochs, name=f"{method}-{r}",
                                seed=run.seed_for(f"student-{r}") % 2**31, **train_kw)
            accs[method].append(res["test_acc"])
            if method == "online":
                out.setdefault("acc_online_peer", 0.0)
                out["acc_online_peer"] += res["peer_acc"] / cfg.student_seeds
        out[f"acc_student_{method}"] = float(np.mean(accs[method]))
        out[f"acc_student_{method}_std"] = float(np.std(accs[method]))
        out[f"seconds_{method}"] = time.perf_counter() - t0
    for method in cfg.students:
        if method != "labels" and "labels" in accs:
            out[f"{method}_minus_labels"] = out[f"acc_student_{method}"] - out["acc_student_labels"]
    out["params_teacher"] = float(count_parameters(teacher))
    out["params_student"] = float(count_parameters(student))
    run.table([{"network": "teacher", "test acc": out["acc_teacher"], "std": 0.0}]
              + [{"network": f"student ({m})", "test acc": out[f"acc_student_{m}"],
                  "std": out[f"acc_student_{m}_std"]} for m in cfg.students],
              f"{cfg.dataset}: test accuracy (students: mean and std over {cfg.student_seeds} initialisations)")
    run.save_figure("student_accuracy", bar_chart(
        {m: out[f"acc_student_{m}"] for m in cfg.students}, errors={m: out[f"acc_student_{m}_std"] for m in cfg.students},
        reference=out["acc_teacher"], reference_label="teacher", ylabel="test accuracy",
        title=f"students on {len(splits.y_train)} images"))
    return out
