"""course_utils: the code behind "Autoencoders, from PCA to VAEs".

Every notebook imports this small package. It is teaching material: open any module and read it.

================ =================================================== ============
module           what it holds                                       first used
================ =================================================== ============
``setup``        ``setup_course``: seed, device, fast mode, Colab    lesson 00
``data``         MNIST / Fashion-MNIST as tensors, offline fallback  lesson 00
``train``        ``fit``: the one training loop of the course        lesson 01
``plots``        image grids, reconstructions, loss curves, codes    lesson 01
``pca``          PCA by SVD and principal angles                     lesson 01
``models``       the autoencoder models                              lesson 01
``losses``       reconstruction losses and the course's convention   lesson 01
``widgets``      sliders: thin shells over plain plotting functions  lesson 01
``anomaly``      reconstruction-error scores, ROC/AUROC, threshold   lesson 02
``conv``         conv and LSTM autoencoders, shape tables            lesson 03
``corruption``   noise functions, Gaussian blur baseline, PSNR       lesson 04
``denoising``    denoising loss, PSNR table, denoising figures       lesson 04
``sparse``       sparse AE; L1, KL, contractive penalties; units     lesson 05
``vae``          reparameterize, VAE loss, MLP/conv VAE, ELBO tools  lesson 06
``vae_views``    samples, manifold grids, interpolation, sliders     lesson 06
``vae_variants`` beta sweep, conditional VAE, Gumbel-softmax VAE     lesson 07
``quiz``         the bilingual auto-graded quizzes (``show_quiz``)   lesson 00
``quiz_bank``    quiz files: validation, sealed answer keys          lesson 00
``quiz_widget``  the ipywidgets view of a quiz                       lesson 00
================ =================================================== ============

Nothing happens at import time: no download, no seeding, no device choice.
"""

from course_utils.setup import Course, setup_course

__all__ = ["Course", "setup_course"]
__version__ = "0.1.0"
