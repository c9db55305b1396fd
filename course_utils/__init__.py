"""course_utils: the code behind "Autoencoders, from PCA to VAEs".

Every notebook imports this small package. It is teaching material: open any module and read it.

Layers (a test keeps them so): infrastructure modules never import a lesson module, a lesson
module never imports a later lesson's module, and nothing imports in a circle.

==================== ================================================= =============
module               what it holds                                     first used
==================== ================================================= =============
*infrastructure*
``course``           ``setup_course``: seed, device, fast mode, Colab  lesson 00
``checks``           input checks: one vocabulary for bad inputs       lesson 00
``data_sources``     IDX files, download, embedded fallback images     lesson 00
``data``             ``load_dataset``: splits as tensors, batches      lesson 00
``losses``           the loss convention; SSE, BCE, Gaussian, KL       lesson 01
``train``            ``fit`` (one loop) and ``predict`` (one eval)     lesson 01
``plots``            figures: image grids, curves, codes, diagrams     lesson 01
``widgets``          ``FigureView``: sliders over plain functions      lesson 01
``quiz``             the bilingual auto-graded quizzes (``show_quiz``) lesson 00
*lessons*
``pca``              PCA by SVD, principal angles, the k slider        lesson 01
``models``           linear, dense and tied autoencoders; ``mlp``      lesson 01
``toy_manifolds``    curved toy data (a noisy arc) and its figure      lesson 01
``anomaly``          reconstruction-error scores, ROC/AUROC            lesson 02
``conv``             conv and LSTM autoencoders, shape tables          lesson 03
``corruption``       noise functions, Gaussian blur baseline, PSNR     lesson 04
``denoising``        ``DenoisingObjective``, PSNR table, figures       lesson 04
``sparse``           sparse AE; L1, KL, contractive penalties; units   lesson 05
``vae``              reparameterize, VAE loss, MLP/conv VAE, warm-up   lesson 06
``elbo``             negative ELBO, importance sampling, active units  lesson 06
``vae_views``        samples, manifold grids, interpolation, sliders   lesson 06
``beta_vae``         beta sweeps and the trade-off figures             lesson 07
``cvae``             the conditional VAE and its views                 lesson 07
``gumbel``           Gumbel-softmax discrete latents                   lesson 07
*tools (import anything, imported by nothing)*
``exercise_checks``  the checks of the exercise notebooks (EN/VI)      lessons 01-07
``make_exercises``   generates exercises/ from solutions/              instructors
``grade``            grades a folder of submissions into a CSV         instructors
``grading_runner``   runs one submission in a limited kernel           instructors
==================== ================================================= =============

Nothing happens at import time: no download, no seeding, no device choice.
"""

from course_utils.course import Course, setup_course

__all__ = ["Course", "setup_course"]
__version__ = "0.1.0"
