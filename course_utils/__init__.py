"""course_utils: the code behind "Autoencoders, from PCA to VAEs".

Every notebook imports this small package, and it holds only what a notebook or an exercise
imports. It is teaching material: open any module and read it. The instructors' and maintainers'
tools (exercise generator, grader, benchmarks, runtimes, quiz authoring) are the separate
package ``course_admin`` (``pip install -e ".[admin]"``); this package never imports it.

Layers (a test keeps them so): infrastructure modules never import a lesson module, a lesson
module never imports a later lesson's module, and nothing imports in a circle. The table lists
every module and subpackage (tests/test_layers.py compares it with the files).

==================== ================================================= =============
module               what it holds                                     first used
==================== ================================================= =============
*infrastructure*
``settings``         every ``COURSE_*`` environment variable, parsed   lesson 00
``moved``            the old commands' one-line pointer to course_admin -
``deprecation``      old names kept for one release, with a warning    -
``course``           ``setup_course``: seed, device, fast mode, Colab  lesson 00
``inputs``           input checks: one vocabulary for bad inputs       lesson 00
``data_sources``     IDX files, download, embedded fallback images     lesson 00
``data``             ``load_dataset``: splits as tensors, batches      lesson 00
``losses``           the loss convention; SSE, BCE, Gaussian, KL       lesson 01
``train``            ``fit`` (one loop) and ``predict`` (one eval)     lesson 01
``schedules``        learning-rate schedules as ``fit`` callbacks      lesson 01
``recorders``        ``fit`` callbacks that copy weights as it trains  01 lab
``plots``            figures: image grids, curves, codes, diagrams     lesson 00
``widgets``          ``FigureView``: sliders over plain functions      lesson 00
``quiz``             the bilingual auto-graded quizzes (``show_quiz``) lesson 00
*lessons*
``pca``              PCA by SVD, principal angles, the k slider        lesson 00
``models``           linear, dense and tied autoencoders; ``mlp``      lesson 01
``toy_manifolds``    toy data: a tilted 3-D cloud, a noisy arc         lesson 01
``anomaly``          reconstruction-error scores, ROC/AUROC            lesson 02
``verdicts``         is a difference real? margins, SEs, their words   lesson 02
``class_info``       class information in codes; choosing k            lesson 02
``code_plane``       sliders over a 2-number code, decoded live        lesson 02
``conv``             conv and LSTM autoencoders, shape tables          lesson 03
``conv_probes``      receptive fields, checkerboard measures           lesson 03
``conv_filters``     shifted images, first-layer maps, dead channels   lesson 03
``rate_search``      ``Recipe.train``, ``paired_z``, ``z_word``        lesson 03
``corruption``       noise functions, Gaussian blur baseline, PSNR     lesson 04
``denoising``        ``DenoisingObjective``, PSNR table, figures       lesson 04
``sparse``           sparse and top-k AEs; L1, KL, contractive penalty lesson 05
``contractive``      the encoder's Jacobian: spectrum, directions      lesson 05
``vae``              reparameterize, VAE loss, MLP/conv VAE, warm-up   lesson 06
``elbo``             negative ELBO, importance sampling, active units  lesson 06
``vae_views``        samples, manifold grids, interpolation, sliders   lesson 06
``beta_vae``         beta sweeps and the trade-off figures             lesson 07
``cvae``             the conditional VAE and its views                 lesson 07
``gumbel``           Gumbel-softmax discrete latents                   lesson 07
``curves``           training terms logged every N steps (``StepLog``) lesson 07
``code_probes``      what a code holds: class probes, style factors    lesson 07
``vqvae``            a tiny VQ-VAE, codebook usage, a learned prior    lesson 07
*exercises (import anything, imported by nothing)*
``exercise_checks``  the checks of the exercises and lesson 00's tasks  lessons 00-07
*old names, for one release (import nothing from course_admin)*
``checks``           deprecated alias: use ``inputs``                  -
``make_exercises``   moved: ``python -m course_admin.make_exercises``  -
``grade``            moved: ``python -m course_admin.grade``           -
``bench``            moved: ``python -m course_admin.bench``           -
``runtimes``         moved: ``python -m course_admin.runtimes``        -
==================== ================================================= =============

Nothing happens at import time: no download, no seeding, no device choice, and no torch:
``Course`` and ``setup_course`` are imported (with torch) the first time they are used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from course_utils.course import Course, setup_course

__all__ = ["Course", "setup_course"]
__version__ = "0.1.0"


def __getattr__(name: str):
    """``course_utils.setup_course`` and ``Course``, imported on first use (PEP 562)."""
    if name in __all__:
        from course_utils import course

        return getattr(course, name)
    raise AttributeError(f"module 'course_utils' has no attribute {name!r}")
